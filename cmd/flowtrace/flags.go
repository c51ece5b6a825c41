package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// flagGroup tags a flag with the group its --help lists it under.
const flagGroup = "group"

// group puts the named flags under a heading in --help.
func group(cmd *cobra.Command, heading string, names ...string) {
	for _, n := range names {
		if err := cmd.Flags().SetAnnotation(n, flagGroup, []string{heading}); err != nil {
			panic(err) // a flag name typo in this file: a programming error
		}
	}
}

// groupedUsage prints the command's flags grouped by purpose, in the order
// the groups were first declared.
func groupedUsage(order []string) func(*cobra.Command) error {
	return func(cmd *cobra.Command) error {
		w := cmd.OutOrStderr()
		fmt.Fprintf(w, "Usage:\n  %s\n", cmd.UseLine())
		if cmd.Example != "" {
			fmt.Fprintf(w, "\nExamples:\n%s\n", cmd.Example)
		}
		for _, heading := range order {
			fs := pflag.NewFlagSet(heading, pflag.ContinueOnError)
			cmd.Flags().VisitAll(func(f *pflag.Flag) {
				if g := f.Annotations[flagGroup]; len(g) == 1 && g[0] == heading {
					fs.AddFlag(f)
				}
			})
			printFlags(w, heading, fs)
		}
		rest := pflag.NewFlagSet("other", pflag.ContinueOnError)
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if len(f.Annotations[flagGroup]) == 0 {
				rest.AddFlag(f)
			}
		})
		printFlags(w, "Other", rest)
		return nil
	}
}

func printFlags(w io.Writer, heading string, fs *pflag.FlagSet) {
	if !fs.HasFlags() {
		return
	}
	fmt.Fprintf(w, "\n%s:\n%s", heading, strings.TrimRight(fs.FlagUsages(), " \n")+"\n")
}
