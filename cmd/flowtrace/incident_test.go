package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

// Tracing from fixtures/dev-theft/incident.yaml gives exactly the trace of
// fixtures/dev-theft/args (under the incident's case name).
func TestIncidentFileEqualsArgs(t *testing.T) {
	replay := filepath.Join(devTheft, "rpc.replay")
	fromArgs, fromFile := t.TempDir(), t.TempDir()
	args := append([]string{"trace", "-q", "--replay", replay, "--out", fromArgs, "--case", "dev-theft"}, caseArgs(t, devTheft)...)
	if code, _, stderr := runCLI(t, args...); code != exitOK {
		t.Fatalf("args: exit %d:\n%s", code, stderr)
	}
	code, _, stderr := runCLI(t, "trace", "-q", "--replay", replay, "--out", fromFile, "--incident", filepath.Join(devTheft, "incident.yaml"))
	if code != exitOK {
		t.Fatalf("incident: exit %d:\n%s", code, stderr)
	}
	got, want := normalizedJSON(t, readOutput(t, fromFile, "graph.json")), normalizedJSON(t, readOutput(t, fromArgs, "graph.json"))
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("graph.json from the incident file differs from the args trace (-args +incident):\n%s", d)
	}
	if got["case"] != "dev-theft" {
		t.Errorf("case = %v, want the incident's name", got["case"])
	}
	for _, f := range []string{"graph.dot", "transfers.csv", "report.md"} {
		// report.md up to its Stats, which hold wall-clock times
		a, _, _ := strings.Cut(string(readOutput(t, fromArgs, f)), "\n## Stats")
		b, _, _ := strings.Cut(string(readOutput(t, fromFile, f)), "\n## Stats")
		if a != b {
			t.Errorf("%s from the incident file differs from the args trace:\n%s", f, cmp.Diff(a, b))
		}
	}
}

func writeIncident(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "case.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodIncident = "name: x\nchain: dev\nseeds: [" + goodSeed + "]\nwindow:\n  from_block: 10\n  to_block: 48\n"

func TestIncidentBadInput(t *testing.T) {
	t.Setenv("ETH_RPC_URL", "")
	for _, tc := range []struct {
		name, file string
		flags      []string
		want       string
	}{
		{"not yaml", "seeds: [", nil, "not YAML"},
		{"not a mapping", "- a\n- b\n", nil, "line 1: want a mapping"},
		{"unknown field", goodIncident + "deph: 3\n", nil, `line 7: unknown field "deph"`},
		{"bad seed", "seeds:\n  - " + goodSeed + "\n  - 0x1234\nwindow: {from_block: 1}\n", nil, "line 3: seeds:"},
		{"bad theft tx", goodIncident + "theft_txs:\n  - 0xabc\n", nil, `line 8: theft_txs: "0xabc" is not a transaction hash`},
		{"bad from block", "seeds: [" + goodSeed + "]\nwindow:\n  from_block: soon\n", nil, `line 3: window: from_block: "soon" is not a block number`},
		{"window backwards", "seeds: [" + goodSeed + "]\nwindow:\n  from_block: 9\n  to_block: 3\n", nil, "line 4: window: to_block 3 is before from_block 9"},
		{"no window", "seeds: [" + goodSeed + "]\n", nil, "window is missing"},
		{"no seeds", "window: {from_block: 1}\n", nil, "seeds is missing"},
		{"bad chain", goodIncident + "chain: dogechain\n", nil, "chain is given twice"},
		{"unknown chain", strings.Replace(goodIncident, "chain: dev", "chain: dogechain", 1), nil, `line 2: chain: unknown chain "dogechain"`},
		{"bad depth", goodIncident + "depth: 0\n", nil, "line 7: depth:"},
		{"bad min value", goodIncident + "min_value: lots\n", nil, "line 7: min_value:"},
		{"seed conflict", goodIncident, []string{"--seed", "0x084E974C859A7d2b30F09005326BFbe3B727cF17"}, "--seed contradicts seeds in --incident"},
		{"from conflict", goodIncident, []string{"--from-block", "11"}, "--from-block contradicts window.from_block"},
		{"chain conflict", goodIncident, []string{"--chain", "ethereum"}, "--chain contradicts chain"},
		{"missing file", "", []string{"--incident", "/nonexistent/case.yaml"}, "--incident"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"trace", "--out", filepath.Join(t.TempDir(), "out")}
			if tc.file != "" {
				args = append(args, "--incident", writeIncident(t, tc.file))
			}
			code, _, stderr := runCLI(t, append(args, tc.flags...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, exitUsage, tc.want)
			}
		})
	}
}

// Flags that do not define the case override the file; the same seed given
// again is no conflict; labels resolve against the file's folder.
func TestIncidentOverrides(t *testing.T) {
	in, err := parseIncident([]byte(goodIncident + "depth: 3\nmin_value: \"1%\"\nlabels: [l.csv, /abs/m.csv]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != "x" || in.FromBlock != "10" || in.ToBlock != "48" || in.Depth != "3" || in.MinValue != "1%" {
		t.Errorf("parsed %+v", in)
	}
	o, cmd := &traceOptions{}, &cobra.Command{}
	o.register(cmd)
	cmd.Flags().StringVar(&o.incident, "incident", "", "")
	path := writeIncident(t, goodIncident+"depth: 3\nlabels: [l.csv]\n")
	if err := cmd.Flags().Parse([]string{"--incident", path, "--depth", "5", "--to-block", "40", "--seed", goodSeed, "--labels", "cli.csv", "--case", "mine"}); err != nil {
		t.Fatal(err)
	}
	if err := o.applyIncident(cmd.Flags()); err != nil {
		t.Fatal(err)
	}
	if o.depth != 5 || o.toBlock != "40" || o.fromBlock != "10" || o.caseName != "mine" || o.chain != "dev" {
		t.Errorf("after the file: depth %d to %s from %s case %s chain %s; want the flags to win where given", o.depth, o.toBlock, o.fromBlock, o.caseName, o.chain)
	}
	if want := []string{filepath.Join(filepath.Dir(path), "l.csv"), "cli.csv"}; !cmp.Equal(o.labelFiles, want) {
		t.Errorf("labels = %q, want %q", o.labelFiles, want)
	}
}

// FuzzParseIncident: any input gives an incident or an error, never a
// panic; an accepted one has seeds and a window start.
func FuzzParseIncident(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join(devTheft, "incident.yaml")); err == nil {
		f.Add(data)
	}
	f.Add([]byte(goodIncident))
	f.Add([]byte("seeds: " + goodSeed + "\nwindow: {from_block: 1, to_block: latest}\ntheft_txs: 0x" + strings.Repeat("ab", 32) + "\n"))
	f.Add([]byte("window: [1, 2]\n"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := parseIncident(data)
		if err != nil {
			return
		}
		if len(in.Seeds) == 0 || in.FromBlock == "" {
			t.Fatalf("accepted %q without seeds or from_block: %+v", data, in)
		}
	})
}
