package main

import (
	"github.com/flowtrace/flowtrace/chains/evm"
	"github.com/flowtrace/flowtrace/tracer"
)

// parseAddress reads an EVM address typed by the user (see evm.ParseAddress).
// Kept until its callers move to evm.ParseAddress.
func parseAddress(s string) (tracer.Address, error) { return evm.ParseAddress(s) }
