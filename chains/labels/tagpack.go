package labels

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/flowtrace/flowtrace/tracer"
)

// tagPack is the part of a GraphSense TagPack that flowtrace reads. Header
// fields are defaults for every tag that does not set them.
type tagPack struct {
	Title    string    `yaml:"title"`
	Creator  string    `yaml:"creator"`
	Label    string    `yaml:"label"`
	Source   string    `yaml:"source"`
	Category string    `yaml:"category"`
	Currency string    `yaml:"currency"`
	Network  string    `yaml:"network"`
	Tags     []tagItem `yaml:"tags"`
}

type tagItem struct {
	Address  string `yaml:"address"`
	Label    string `yaml:"label"`
	Source   string `yaml:"source"`
	Category string `yaml:"category"`
	Currency string `yaml:"currency"`
	Network  string `yaml:"network"`
}

// tagPackCategories maps GraphSense taxonomy categories to flowtrace's.
var tagPackCategories = map[string]tracer.Category{
	"exchange": tracer.CategoryExchange, "bridge": tracer.CategoryBridge,
	"mixing_service": tracer.CategoryMixer, "mixer": tracer.CategoryMixer, "coinjoin": tracer.CategoryMixer,
	"dex": tracer.CategoryDEX, "defi_dex": tracer.CategoryDEX, "dex_aggregator": tracer.CategoryDEX, "defi": tracer.CategoryDEX,
	"sanction": tracer.CategorySanctions, "sanctioned": tracer.CategorySanctions, "perpetrator": tracer.CategorySanctions,
	"hacker": tracer.CategorySanctions, "contract": tracer.CategoryContract, "smart_contract": tracer.CategoryContract,
}

// networks maps TagPack currency / network codes to flowtrace chain names.
var networks = map[string]string{"eth": "ethereum", "ethereum": "ethereum", "btc": "bitcoin", "bitcoin": "bitcoin"}

// ReadTagPack reads a GraphSense TagPack (YAML): header defaults (label,
// source, category, currency or network) and a tags list. Categories map
// onto flowtrace's (mixing_service -> mixer, defi_dex -> dex, perpetrator ->
// sanctioned, ...; unknown ones -> other). EVM addresses are stored in EIP-55
// form; addresses of other networks as written.
func (r *Registry) ReadTagPack(in io.Reader) error {
	var p tagPack
	dec := yaml.NewDecoder(in)
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty TagPack")
		}
		return fmt.Errorf("TagPack: %w", err)
	}
	if len(p.Tags) == 0 {
		return errors.New("TagPack has no tags")
	}
	for i, t := range p.Tags {
		chain := chainOf(or(t.Network, p.Network), or(t.Currency, p.Currency))
		if chain == "" {
			return fmt.Errorf("tag %d (%s): no currency or network", i+1, t.Address)
		}
		addr := strings.TrimSpace(t.Address)
		if addr == "" {
			return fmt.Errorf("tag %d: no address", i+1)
		}
		if strings.HasPrefix(strings.ToLower(addr), "0x") || chain == "ethereum" {
			var err error
			if addr, err = canonical(addr); err != nil {
				return fmt.Errorf("tag %d: %w", i+1, err)
			}
		}
		name := strings.TrimSpace(or(t.Label, p.Label))
		if name == "" {
			return fmt.Errorf("tag %d (%s): no label", i+1, addr)
		}
		cat := tagPackCategories[strings.ToLower(strings.TrimSpace(or(t.Category, p.Category)))]
		if cat == "" {
			cat = tracer.CategoryOther
		}
		src := strings.TrimSpace(or(t.Source, p.Source))
		if src == "" {
			src = "tagpack: " + or(p.Title, p.Creator)
		}
		r.Add(chain, addr, tracer.Label{Name: name, Category: cat, Source: src})
	}
	return nil
}

func chainOf(network, currency string) string {
	for _, s := range []string{network, currency} {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" {
			continue
		}
		if c, ok := networks[s]; ok {
			return c
		}
		return s
	}
	return ""
}

func or(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	return b
}
