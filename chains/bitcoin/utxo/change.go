package utxo

import (
	"fmt"
	"slices"
)

// Change is the guess that one output of a transaction returns the
// spender's change, with why.
type Change struct {
	Output     int     // position in Tx.Outputs
	Confidence float64 // in [0,1]: the signals combined as independent, 1 - prod(1 - c)
	Reasons    []string
}

// The weight of each signal. They are priors stated by rule, not fitted:
// reuse is near-certain, the others are the weaker hints the literature
// reports as often wrong alone.
const (
	confReuse      = 0.95
	confScriptType = 0.7
	confRound      = 0.6
	confOptimal    = 0.6
)

// roundSats is what a round amount is a multiple of: 0.001 BTC.
const roundSats = 100_000

// vote is one signal: output i is change (or, with not, is not).
type vote struct {
	i      int
	not    bool
	conf   float64
	reason string
}

// GuessChange names the change output of tx by four signals, or returns
// false when there is none to name: a coinbase, a CoinJoin (its outputs
// belong to many), fewer than two spendable outputs, no signal, or
// signals that disagree. The rules:
//
//   - address reuse: an output paying an input's address is change (the
//     self-change wallets and services such as THORChain vaults make,
//     noted by Meiklejohn et al. 2013, "A Fistful of Bitcoins"; BlockSci
//     ChangeHeuristic AddressReuse).
//   - script type: when the inputs share one script type and exactly one
//     output has it, that output is change (Blockchair privacy-o-meter;
//     BlockSci AddressType heuristic; Möser & Narayanan 2022).
//   - round amount: of two outputs, when one is a round number of BTC
//     (a multiple of 0.001) and the other is not, the other is change
//     (Ermilov et al. 2017, "Automatic Bitcoin Address Clustering";
//     BlockSci PowerOfTen).
//   - unnecessary input / optimal change: a wallet adds an input only if
//     it needs it, so the change is smaller than every input; an output
//     at least as large as the smallest input is not change, as the
//     payment it would leave could be paid without that input (OXT /
//     Bitcoin wiki "Privacy": unnecessary input heuristic; Blockchair and
//     BlockSci OptimalChange). It speaks only with two or more inputs.
func GuessChange(tx Tx) (Change, bool) {
	if len(tx.Inputs) == 0 || tx.Inputs[0].Coinbase {
		return Change{}, false
	}
	if _, cj := DetectCoinJoin(tx); cj {
		return Change{}, false
	}
	var spend []int // spendable outputs
	for i, o := range tx.Outputs {
		if spendable(o) {
			spend = append(spend, i)
		}
	}
	if len(spend) < 2 {
		return Change{}, false
	}
	var votes []vote
	votes = append(votes, reuseVote(tx, spend)...)
	votes = append(votes, scriptTypeVote(tx, spend)...)
	votes = append(votes, roundVote(tx, spend)...)
	votes = append(votes, optimalVotes(tx, spend)...)

	pick, c := -1, Change{}
	keep := 1.0
	for _, v := range votes {
		if v.not {
			continue
		}
		if pick >= 0 && v.i != pick {
			return Change{}, false // two outputs named change
		}
		pick = v.i
		keep *= 1 - v.conf
		c.Reasons = append(c.Reasons, v.reason)
	}
	if pick < 0 {
		return Change{}, false
	}
	for _, v := range votes {
		if v.not && v.i == pick {
			return Change{}, false // named change and not change
		}
	}
	c.Output, c.Confidence = pick, 1-keep
	return c, true
}

func reuseVote(tx Tx, spend []int) []vote {
	var hit []int
	for _, i := range spend {
		a := tx.Outputs[i].Address
		if a != "" && slices.ContainsFunc(tx.Inputs, func(in Input) bool { return in.Address == a }) {
			hit = append(hit, i)
		}
	}
	if len(hit) != 1 {
		return nil
	}
	return []vote{{i: hit[0], conf: confReuse, reason: fmt.Sprintf("address reuse: pays back to input address %s", tx.Outputs[hit[0]].Address)}}
}

func scriptTypeVote(tx Tx, spend []int) []vote {
	t := inputType(tx.Inputs[0])
	if t == "" {
		return nil
	}
	for _, in := range tx.Inputs[1:] {
		if inputType(in) != t {
			return nil
		}
	}
	var match []int
	for _, i := range spend {
		ot := outputType(tx.Outputs[i])
		if ot == "" {
			return nil // an output of unknown type could be the match
		}
		if ot == t {
			match = append(match, i)
		}
	}
	if len(match) != 1 {
		return nil
	}
	return []vote{{i: match[0], conf: confScriptType, reason: fmt.Sprintf("script type: the only output of the inputs' type %s", t)}}
}

func roundVote(tx Tx, spend []int) []vote {
	if len(spend) != 2 {
		return nil
	}
	a, b := spend[0], spend[1]
	ra, rb := tx.Outputs[a].Value%roundSats == 0, tx.Outputs[b].Value%roundSats == 0
	if ra == rb {
		return nil
	}
	pay, change := a, b
	if rb {
		pay, change = b, a
	}
	return []vote{{i: change, conf: confRound, reason: fmt.Sprintf("round payment: output %d pays a round %d sats", pay, tx.Outputs[pay].Value)}}
}

func optimalVotes(tx Tx, spend []int) []vote {
	if len(tx.Inputs) < 2 {
		return nil
	}
	least := tx.Inputs[0].Value
	for _, in := range tx.Inputs[1:] {
		least = min(least, in.Value)
	}
	var small []int
	var votes []vote
	for _, i := range spend {
		if tx.Outputs[i].Value < least {
			small = append(small, i)
		} else {
			votes = append(votes, vote{i: i, not: true, reason: "unnecessary input"})
		}
	}
	if len(small) == 1 {
		votes = append(votes, vote{i: small[0], conf: confOptimal, reason: fmt.Sprintf("optimal change: the only output below the smallest input (%d sats)", least)})
	}
	return votes
}
