// Package providers is the table of the ways JSON-RPC nodes and node
// providers say no: the wording of their range, result and batch limits,
// collected from their public documentation and issue trackers, and a
// reader that takes the limit a message states (a block range, a suggested
// range, a batch size, a request rate and how long to wait).
//
// It is data and parsing only: it knows no client, no retry policy and no
// tracer. chains/evm reads limits with it; chains/rpcfault replays the
// messages.
package providers

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Kind is what a limit bounds.
type Kind string

const (
	Range   Kind = "range"   // the blocks of one eth_getLogs / trace_filter query (Max; a suggested range may come with it)
	Suggest Kind = "suggest" // the node names a range that would work (From, To)
	Results Kind = "results" // the entries of one answer; Max when stated
	Batch   Kind = "batch"   // the calls of one batch; Max when stated
	Rate    Kind = "rate"    // requests per second (Rate, Method when stated; Credits: compute units) and a wait
)

// Form is one provider's wording of one limit.
type Form struct {
	Name     string // short id, used to name fault classes
	Who      string // provider or node software
	Kind     Kind
	Code     int    // JSON-RPC error code it comes with
	HTTP     int    // HTTP status it comes with; 0 for 200
	Template string // the message with {max}, {from}, {to} (hex for Suggest), {asked}, {rate}, {wait}
	// Data is the error's data as the provider sends it (a JSON template,
	// same placeholders), "" for none. Parse reads rates and waits from any
	// data, whatever its layout.
	Data    string
	Example string // the message as found, verbatim ("" when the source gives the pattern only)
	Source  string // where it was found
	// Methods are the methods the form answers ("" for all); nil: eth_getLogs
	// and trace_filter for range, suggest and results forms, any for others.
	Methods []string
	// Credits: the rate a Rate form states counts compute units or credits,
	// whose cost per method the provider sets; it is not a request rate.
	Credits bool
	re      *regexp.Regexp
}

// Forms lists the known wordings. A message matching none of them may
// still be a limit (chains/evm has generic phrases and halves the query).
var Forms = []*Form{
	{Name: "alchemy-range", Who: "Alchemy", Kind: Range, Code: -32600, HTTP: 400,
		Template: "You can make eth_getLogs requests with up to a {max} block range. Based on your parameters, this block range should work: [{from}, {to}]",
		Example:  "You can make eth_getLogs requests with up to a 500 block range. Based on your parameters, this block range should work: [0x1be4213, 0x1be4406]",
		Source:   "https://github.com/risc0/risc0-ethereum/pull/656 (HTTP 400: https://github.com/boundless-xyz/boundless/issues/838)"},
	{Name: "alchemy-size", Who: "Alchemy", Kind: Results, Code: -32602,
		Template: "Log response size exceeded. Please reduce query block range.",
		Example:  "Log response size exceeded. Please reduce query block range.",
		Source:   "https://github.com/bancorprotocol/webapp/issues/523"},
	{Name: "infura-results", Who: "Infura, zkSync", Kind: Suggest, Code: -32005,
		Template: "query returned more than {max} results. Try with this block range [{from}, {to}].",
		Source:   "https://github.com/ponder-sh/ponder/blob/main/packages/utils/src/getLogsRetryHelper.ts (pattern)"},
	{Name: "infura-range", Who: "Infura", Kind: Range, Code: -32602,
		Template: "range {asked} exceeds limit of {max}",
		Example:  "range 1000000 exceeds limit of 10000",
		Source:   "https://github.com/INFURA/infura/issues/237"},
	{Name: "quicknode-range", Who: "QuickNode", Kind: Range, Code: -32614, HTTP: 413,
		Template: "eth_getLogs is limited to a {max} range",
		Example:  "eth_getLogs is limited to a 10,000 range",
		Source:   "https://github.com/OffchainLabs/arbitrum-sdk/issues/609"},
	{Name: "quicknode-blocks", Who: "QuickNode", Kind: Range, Code: -32614,
		Template: "eth_getLogs and eth_newFilter are limited to a {max} blocks range",
		Example:  "eth_getLogs and eth_newFilter are limited to a 10,000 blocks range",
		Source:   "https://github.com/ethers-io/ethers.js/issues/3612"},
	{Name: "ankr-range", Who: "Ankr", Kind: Range, Code: -32602,
		Template: "maximum [from, to] blocks distance: {max}",
		Example:  "maximum [from, to] blocks distance: 10000",
		Source:   "https://github.com/ponder-sh/ponder/issues/1940"},
	{Name: "chainstack-range", Who: "Chainstack", Kind: Range, Code: -32602,
		Template: "Block range limit exceeded. See more details at https://docs.chainstack.com/docs/limits#evm-range-limits",
		Example:  "Block range limit exceeded. See more details at https://docs.chainstack.com/docs/limits#evm-range-limits",
		Source:   "https://github.com/matter-labs/zksync-era/pull/2974"},
	{Name: "blast-range", Who: "BlastAPI", Kind: Range, Code: -32602,
		Template: "exceeds the range allowed for your plan ({asked} > {max})",
		Source:   "https://github.com/ponder-sh/ponder/blob/main/packages/utils/src/getLogsRetryHelper.ts (pattern, BlastAPI paid plans)"},
	{Name: "tenderly-range", Who: "Tenderly", Kind: Range, Code: -32602,
		Template: "range {asked} is bigger than range limit {max}",
		Example:  "range 9009594 is bigger than range limit 2000",
		Source:   "https://github.com/bobanetwork/boba_legacy/issues/827 (in error.data.payload)"},
	{Name: "geth-range", Who: "go-ethereum (--rpc.rangelimit)", Kind: Range, Code: -32602,
		Template: "exceed maximum block range {max}",
		Example:  "exceed maximum block range 10000",
		Source:   "https://github.com/ethereum/go-ethereum/blob/v1.17.8/eth/filters/filter.go"},
	{Name: "bsc-range", Who: "BNB Chain (geth fork)", Kind: Range, Code: -32000,
		Template: "exceed maximum block range: {max}",
		Example:  "exceed maximum block range: 5000",
		Source:   "https://github.com/AlphaWallet/alpha-wallet-android/issues/2736"},
	{Name: "reth-range", Who: "Reth", Kind: Range, Code: -32602,
		Template: "query exceeds max block range {max}",
		Example:  "query exceeds max block range 5000",
		Source:   "https://github.com/paradigmxyz/reth/pull/8558"},
	{Name: "morph-range", Who: "op-geth style nodes", Kind: Range, Code: -32000,
		Template: "block range is larger than max block range, block range = {asked}, max block range = {max}",
		Example:  "block range is larger than max block range, block range = 5120, max block range = 5000",
		Source:   "https://github.com/enviodev/hyperindex/issues/605"},
	{Name: "geth-results", Who: "go-ethereum forks, Infura", Kind: Results, Code: -32005,
		Template: "query returned more than {max} results",
		Example:  "query returned more than 10000 results",
		Source:   "https://github.com/aurora-is-near/aurora-relayer/pull/327"},
	{Name: "geth-batch", Who: "go-ethereum (--rpc.batch-request-limit)", Kind: Batch, Code: -32600,
		Template: "batch too large",
		Example:  "batch too large",
		Source:   "https://github.com/ethereum/go-ethereum/blob/v1.17.8/rpc/handler.go"},
	{Name: "erigon-batch", Who: "Erigon", Kind: Batch, Code: -32000,
		Template: "batch limit {max} exceeded: {asked} requests given",
		Example:  "batch limit 100 exceeded: 142 requests given",
		Source:   "https://github.com/erigontech/erigon/issues/7090"},
	{Name: "batch-limit", Who: "Tron, several providers", Kind: Batch, Code: -32007,
		Template: "batch limit exceeded",
		Example:  "batch limit exceeded",
		Source:   "https://github.com/fystack/multichain-indexer/issues/19"},
	{Name: "acala-batch", Who: "eth-rpc-adapter (Acala)", Kind: Batch, Code: -32600,
		Template: "Exceeded maximum batch size {max}",
		Example:  "Exceeded maximum batch size 100",
		Source:   "https://github.com/AcalaNetwork/bodhi.js/pull/383"},
	{Name: "alchemy-cups", Who: "Alchemy", Kind: Rate, Code: 429, HTTP: 429,
		Template: "Your app has exceeded its compute units per second capacity. If you have retries enabled, you can safely ignore this message. If not, check out https://docs.alchemy.com/reference/throughput",
		Example:  "Your app has exceeded its compute units per second capacity. If you have retries enabled, you can safely ignore this message. If not, check out https://docs.alchemy.com/reference/throughput",
		Source:   "https://github.com/conduitxyz/node/issues/36"},
	{Name: "alchemy-over-rate", Who: "Alchemy (per IP), Base public RPC", Kind: Rate, Code: -32016,
		Template: "over rate limit",
		Example:  "over rate limit",
		Source:   "https://github.com/base/node/issues/368 (code -32016 for Alchemy: https://github.com/alloy-rs/alloy/blob/main/crates/transport/src/error.rs)"},
	{Name: "quicknode-rps", Who: "QuickNode", Kind: Rate, Code: -32007,
		Template: "{rate}/second request limit reached - reduce calls per second or upgrade your account at quicknode.com",
		Example:  "100/second request limit reached - reduce calls per second or upgrade your account at quicknode.com",
		Source:   "https://github.com/foundry-rs/foundry/issues/4894 (quoted in https://github.com/alloy-rs/alloy/blob/main/crates/transport/src/error.rs)"},
	{Name: "quicknode-credits", Who: "QuickNode", Kind: Rate, Code: -32012, Credits: true,
		Template: "credits limited to {rate}/sec",
		Example:  "credits limited to 6000/sec",
		Source:   "https://github.com/latticexyz/mud/issues/1522 (an array of this error, one per call of the batch)"},
	{Name: "infura-rate", Who: "Infura", Kind: Rate, Code: -32005, HTTP: 429,
		Template: "project ID request rate exceeded",
		Data:     `{"see":"https://infura.io/dashboard","current_rps":{asked},"allowed_rps":{rate},"backoff_seconds":{wait}}`,
		Example:  "project ID request rate exceeded",
		Source:   "https://github.com/web3/web3.js/issues/7284 (HTTP 429 and the data: an InfuraRetryProvider for ethers v5, https://github.com/ethers-io/ethers.js packages/providers/src.ts/infura-provider.ts)"},
	{Name: "infura-daily", Who: "Infura", Kind: Rate, Code: -32005, HTTP: 429,
		Template: "daily request count exceeded, request rate limited",
		Data:     `{"rate":{"allowed_rps":{rate},"backoff_seconds":{wait},"current_rps":{asked}},"see":"https://infura.io/dashboard"}`,
		Example:  "daily request count exceeded, request rate limited",
		Source:   "https://github.com/CirclesUBI/circles-myxogastria/issues/54 (data: https://github.com/gakonst/ethers-rs/blob/master/ethers-providers/src/rpc/transports/retry.rs)"},
	{Name: "chainstack-rps", Who: "Chainstack", Kind: Rate, Code: -32005,
		Template: "You've exceeded the RPS limit available on the current plan.",
		Example:  "You've exceeded the RPS limit available on the current plan.",
		Source:   "https://github.com/BobTheBuidler/dank_mids/pull/728 (sent with HTTP 200, _chainstack_429_msg in dank_mids; code -32005 with data.try_again_in: https://github.com/chainstack/dev-portal/pull/288)"},
	{Name: "reth-trace-range", Who: "Reth (--rpc.max-trace-filter-blocks)", Kind: Range, Code: -32602,
		Template: "Block range too large; currently limited to {max} blocks",
		Example:  "Block range too large; currently limited to 100 blocks",
		Methods:  []string{"trace_filter"},
		Source:   "https://github.com/paradigmxyz/reth/pull/22477 (crates/rpc/rpc/src/trace.rs)"},
	{Name: "besu-range", Who: "Besu (--rpc-max-logs-range, --rpc-max-trace-filter-range)", Kind: Range, Code: -32005,
		Template: "Requested range exceeds maximum RPC range limit",
		Example:  "Requested range exceeds maximum RPC range limit",
		Source:   "https://github.com/hyperledger/besu/blob/main/ethereum/api/src/main/java/org/hyperledger/besu/ethereum/api/jsonrpc/internal/response/RpcErrorType.java (trace_filter: https://github.com/besu-eth/besu-docs/issues/1487)"},
}

// Limit is what a message states.
type Limit struct {
	Form     *Form
	Max      uint64 // 0: not stated
	From, To uint64 // the suggested range (Suggest)
	// Rate is the requests per second a Rate form (or its data) allows, 0
	// when not stated or counted in credits. No provider names the method
	// in its words: the client keys the rate by the refused method.
	Rate float64
	Wait time.Duration // how long the provider asks to wait, 0: not said
}

// Parse reads the limit an error message (with its data, if any) states.
func Parse(msg string) (Limit, bool) {
	for _, f := range Forms {
		m := f.re.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		l := Limit{Form: f}
		for i, name := range f.re.SubexpNames() {
			switch name {
			case "max":
				l.Max = number(m[i])
			case "from":
				l.From, _ = strconv.ParseUint(strings.TrimPrefix(strings.ToLower(m[i]), "0x"), 16, 64)
			case "to":
				l.To, _ = strconv.ParseUint(strings.TrimPrefix(strings.ToLower(m[i]), "0x"), 16, 64)
			case "rate":
				if !f.Credits {
					l.Rate = decimal(m[i])
				}
			}
		}
		if f.Kind == Suggest && l.To < l.From {
			continue
		}
		if f.Kind == Rate {
			hints(msg, &l)
		}
		return l, true
	}
	return Limit{}, false
}

// Hints in a rate limit's data, whatever the layout: Infura's allowed_rps
// and backoff_seconds, Chainstack's try_again_in (a duration or seconds).
var (
	allowedRPS     = regexp.MustCompile(`"allowed_rps"\s*:\s*"?([0-9]+(?:\.[0-9]+)?)`)
	backoffSeconds = regexp.MustCompile(`"backoff_seconds"\s*:\s*"?([0-9]+(?:\.[0-9]+)?)`)
	tryAgainIn     = regexp.MustCompile(`"try_again_in"\s*:\s*"?([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)?`)
)

// hints fills l's Rate and Wait from the data msg holds, where the message
// itself states none.
func hints(msg string, l *Limit) {
	if m := allowedRPS.FindStringSubmatch(msg); m != nil && l.Rate == 0 && !l.Form.Credits {
		l.Rate = decimal(m[1])
	}
	if m := backoffSeconds.FindStringSubmatch(msg); m != nil && l.Wait == 0 {
		l.Wait = seconds(decimal(m[1]))
	}
	if m := tryAgainIn.FindStringSubmatch(msg); m != nil && l.Wait == 0 {
		if d, err := time.ParseDuration(m[1] + m[2]); err == nil && m[2] != "" {
			l.Wait = d
		} else {
			l.Wait = seconds(decimal(m[1]))
		}
	}
}

func seconds(s float64) time.Duration {
	return time.Duration(math.Ceil(s * float64(time.Second)))
}

// Span is the most blocks per query the limit allows, 0 when it does not say.
func (l Limit) Span() uint64 {
	switch l.Form.Kind {
	case Range:
		return l.Max
	case Suggest:
		return l.To - l.From + 1
	}
	return 0
}

// Message fills the form's template.
func (f *Form) Message(max, asked, from, to uint64) string {
	return f.Fill(f.Template, Values{Max: max, Asked: asked, From: from, To: to})
}

// Values fill a form's placeholders.
type Values struct {
	Max, Asked, From, To uint64
	Rate                 float64
	Wait                 time.Duration
}

// Fill fills a template of the form (its Template or its Data).
func (f *Form) Fill(template string, v Values) string {
	return strings.NewReplacer(
		"{max}", strconv.FormatUint(v.Max, 10),
		"{asked}", strconv.FormatUint(v.Asked, 10),
		"{from}", "0x"+strconv.FormatUint(v.From, 16),
		"{to}", "0x"+strconv.FormatUint(v.To, 16),
		"{rate}", strconv.FormatFloat(v.Rate, 'f', -1, 64),
		"{wait}", strconv.FormatFloat(v.Wait.Seconds(), 'f', -1, 64),
	).Replace(template)
}

// Answers reports whether the form is a refusal of method.
func (f *Form) Answers(method string) bool {
	if f.Methods == nil {
		return f.Kind == Batch || f.Kind == Rate || method == "eth_getLogs" || method == "trace_filter"
	}
	for _, m := range f.Methods {
		if m == "" || m == method {
			return true
		}
	}
	return false
}

// ByName finds a form.
func ByName(name string) *Form {
	for _, f := range Forms {
		if f.Name == name {
			return f
		}
	}
	return nil
}

func init() {
	for _, f := range Forms {
		f.re = compile(f.Template)
	}
}

// compile turns a template into a pattern: placeholders become groups, the
// rest matches literally, case aside.
func compile(template string) *regexp.Regexp {
	pat := regexp.QuoteMeta(template)
	for ph, group := range map[string]string{
		"{max}":   `(?P<max>[0-9][0-9,.]*[kK]?)`,
		"{asked}": `[0-9][0-9,.]*`,
		"{from}":  `(?P<from>0x[0-9a-fA-F]+)`,
		"{to}":    `(?P<to>0x[0-9a-fA-F]+)`,
		"{rate}":  `(?P<rate>[0-9][0-9,]*(?:\.[0-9]+)?)`,
		"{wait}":  `[0-9.]+`,
	} {
		pat = strings.ReplaceAll(pat, regexp.QuoteMeta(ph), group)
	}
	return regexp.MustCompile("(?i)" + pat)
}

// decimal reads "6000", "10,000", "13.333".
func decimal(s string) float64 {
	f, _ := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
	return f
}

// number reads "10,000", "10.000", "2K".
func number(s string) uint64 {
	mult := uint64(1)
	if strings.HasSuffix(s, "k") || strings.HasSuffix(s, "K") {
		mult, s = 1000, s[:len(s)-1]
	}
	s = strings.NewReplacer(",", "", ".", "").Replace(s)
	n, _ := strconv.ParseUint(s, 10, 64)
	return n * mult
}
