package evm

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/tracer"
)

// Selectors of the token metadata calls.
var (
	symbolCall   = hexutil.Bytes{0x95, 0xd8, 0x9b, 0x41} // symbol()
	decimalsCall = hexutil.Bytes{0x31, 0x3c, 0xe5, 0x67} // decimals()
	nameCall     = hexutil.Bytes{0x06, 0xfd, 0xde, 0x03} // name()
)

// Describe tells which accounts are contracts (eth_getCode) and the symbol,
// name and decimals of tokens (eth_call), in one batch for what is not known
// yet; answers are kept for the Source's life. A token whose decimals() fails
// or does not decode is left out; its symbol and name are optional (string
// or bytes32, as MKR answers).
func (s *Source) Describe(ctx context.Context, accounts, tokens []tracer.Address) (tracer.Descriptions, error) {
	accts, err := parseAddresses(accounts)
	if err != nil {
		return tracer.Descriptions{}, err
	}
	toks, err := parseAddresses(tokens)
	if err != nil {
		return tracer.Descriptions{}, err
	}
	var elems []rpc.BatchElem
	type ask struct {
		a     common.Address
		token bool
	}
	var asks []ask
	s.mu.Lock()
	for _, a := range accts {
		if _, ok := s.accts[a]; !ok {
			asks = append(asks, ask{a, false})
			elems = append(elems, rpc.BatchElem{Method: "eth_getCode", Args: []any{a, "latest"}, Result: new(hexutil.Bytes)})
		}
	}
	for _, a := range toks {
		if _, ok := s.tokens[a]; !ok {
			asks = append(asks, ask{a, true})
			for _, data := range []hexutil.Bytes{symbolCall, decimalsCall, nameCall} {
				elems = append(elems, rpc.BatchElem{Method: "eth_call", Args: []any{
					map[string]any{"to": a, "data": data}, "latest",
				}, Result: new(hexutil.Bytes)})
			}
		}
	}
	s.mu.Unlock()
	if err := s.c.batch(ctx, elems); err != nil {
		return tracer.Descriptions{}, fmt.Errorf("evm: describe: %w", err)
	}
	newAccts := map[common.Address]tracer.Account{}
	newToks := map[common.Address]*tracer.Token{}
	i := 0
	for _, q := range asks {
		if !q.token {
			e := elems[i]
			i++
			if e.Error != nil {
				return tracer.Descriptions{}, fmt.Errorf("evm: eth_getCode %s: %w", q.a.Hex(), mapErr(e.Error))
			}
			newAccts[q.a] = tracer.Account{IsContract: len(*e.Result.(*hexutil.Bytes)) > 0}
			continue
		}
		sym, dec, name := elems[i], elems[i+1], elems[i+2]
		i += 3
		for _, e := range []rpc.BatchElem{sym, dec, name} {
			if e.Error != nil && (transient(e.Error) || isTransportErr(e.Error)) {
				return tracer.Descriptions{}, fmt.Errorf("evm: eth_call %s: %w", q.a.Hex(), mapErr(e.Error))
			}
		}
		var tok *tracer.Token
		if dec.Error == nil {
			if d, ok := decodeDecimals(*dec.Result.(*hexutil.Bytes)); ok {
				tok = &tracer.Token{Decimals: d}
				if sym.Error == nil {
					tok.Symbol, _ = decodeSymbol(*sym.Result.(*hexutil.Bytes))
				}
				if name.Error == nil {
					tok.Name, _ = decodeSymbol(*name.Result.(*hexutil.Bytes))
				}
			}
		}
		newToks[q.a] = tok
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for a, v := range newAccts {
		s.accts[a] = v
	}
	for a, v := range newToks {
		s.tokens[a] = v
	}
	d := tracer.Descriptions{Accounts: map[tracer.Address]tracer.Account{}, Tokens: map[tracer.Address]tracer.Token{}}
	for _, a := range accts {
		d.Accounts[addr(a)] = s.accts[a]
	}
	for _, a := range toks {
		if t := s.tokens[a]; t != nil {
			d.Tokens[addr(a)] = *t
		}
	}
	return d, nil
}
