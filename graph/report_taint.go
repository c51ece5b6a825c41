package graph

import (
	"bufio"
	"cmp"
	"fmt"
	"math/big"

	"github.com/flowtrace/flowtrace/tracer"
)

// writeDerivation says how the stolen value was derived and under which
// taint model it is accounted.
func (f *Flow) writeDerivation(b *bufio.Writer) {
	if f.StolenBasis != "" {
		fmt.Fprintf(b, "\nStolen value: %s.\n", mdText(f.StolenBasis))
	}
	if f.Taint != "" {
		fmt.Fprintf(b, "Taint model: %s.\n", mdText(f.Taint))
	}
}

// writeModels shows, per headline asset, the shares of each bucket under the walk's
// taint model and the others asked for (--taint all).
func (f *Flow) writeModels(b *bufio.Writer, assets []tracer.AssetSummary) {
	if len(f.Alternatives) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### Taint models side by side\n\nThe walk followed %s; the same transfers accounted under each model (shares of the stolen value):\n", mdText(f.Taint))
	for _, a := range assets {
		cols := []tracer.AssetSummary{a}
		header := []string{"bucket", f.Taint}
		for _, m := range f.Alternatives {
			header = append(header, m.Taint)
			var alt tracer.AssetSummary
			for _, x := range m.Summary.Assets {
				if x.Asset == a.Asset {
					alt = x
				}
			}
			cols = append(cols, alt)
		}
		buckets := map[string]*big.Int{}
		for _, c := range cols {
			for k, v := range c.Buckets {
				buckets[k] = v
			}
		}
		fmt.Fprintf(b, "\n#### %s (%s)\n\n", mdText(a.Symbol), mdText(string(a.Asset)))
		t := &mdTable{}
		t.row(header...)
		for _, k := range bucketsOf(buckets) {
			r := []string{k}
			for _, c := range cols {
				r = append(r, cmp.Or(BucketShares(c.Buckets, accountedBase(c))[k], "0.00%"))
			}
			t.row(r...)
		}
		t.write(b, "No accounting.")
	}
}

// writeUnexplained lists the senders that paid out more than the walk saw
// them receive: their later outflows carry value of unknown origin.
func (f *Flow) writeUnexplained(b *bufio.Writer) {
	fmt.Fprintf(b, "\n### Sent more than seen received\n\n")
	t := &mdTable{}
	t.row("address", "asset", "sent beyond known inflows", "first at tx")
	for _, u := range f.Unexplained {
		tok, _ := f.AssetInfo(u.Asset)
		t.row(string(u.Address), f.Symbol(u.Asset), FormatAmount(u.Amount, tok.Decimals), u.TxHash)
	}
	t.write(b, "Every expanded address sent no more than it was seen to receive.")
}
