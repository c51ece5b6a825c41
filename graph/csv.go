package graph

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

var csvHeader = []string{"tx_hash", "block_number", "position", "kind", "from", "to", "asset", "symbol",
	"amount", "tainted_amount", "from_depth", "to_category", "chain"}

// WriteCSV writes transfers.csv: one row per kept transfer, in chain order,
// with its chain; addresses and assets as that chain writes them.
// Cells that a spreadsheet would take for a formula get a leading quote.
func WriteCSV(w io.Writer, f *Flow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("graph: write csv: %w", err)
	}
	for _, t := range f.transfers {
		from, to := f.byID[NodeID(f.Chain, t.From)], f.byID[NodeID(f.Chain, t.To)]
		chain, asset := f.localAsset(t.Asset)
		row := []string{
			t.TxHash, strconv.FormatUint(t.BlockNumber, 10), t.Position(), string(t.Kind),
			string(from.Local()), string(to.Local()), string(asset), f.Symbol(t.Asset),
			t.Amount.String(), t.Tainted.String(), strconv.Itoa(from.Depth), string(to.Category), chain,
		}
		for i := range row {
			row[i] = SafeCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("graph: write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("graph: write csv: %w", err)
	}
	return nil
}

// SafeCell prefixes a single quote to a cell a spreadsheet would run
// as a formula (starting with = + - @, or a tab or carriage return).
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
