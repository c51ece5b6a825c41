// Package serve is the investigation workspace of `flowtrace serve`: an HTTP
// server over a trace output folder (or a batch folder of cases) that serves
// the embedded page and a small JSON API. It reads graph.json as written by
// the trace command and writes only label files (and, through Expand, the
// outputs of a one-hop expansion); it knows no node, RPC URL or cache.
package serve

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flowtrace/flowtrace/chains/networks"
)

//go:embed web/dist/app.js web/dist/app.css web/index.html
var webFS embed.FS

// TokenHeader carries the session token on state-changing requests.
const TokenHeader = "X-Flowtrace-Token"

// cookieName is the session cookie (SameSite=Strict) that state-changing
// requests need beside the token header.
const cookieName = "flowtrace_session"

// GraphFile and LabelFile are the files the server reads and writes in a case folder.
const (
	GraphFile = "graph.json"
	LabelFile = "labels.csv"
)

// ExpandFunc walks one hop from address in the case folder dir and rewrites
// the folder's outputs (graph.json and the rest) with the grown trace.
type ExpandFunc func(ctx context.Context, dir, chain, address string) error

// Options configure a Server.
type Options struct {
	// Dir is a trace output folder (graph.json) or a batch folder (cases/*/graph.json).
	Dir string
	// Explorers links transactions and addresses per chain; nil uses DefaultExplorers().
	Explorers map[string]Explorer
	// Expand, when set, lets the page grow the graph by one hop from a node.
	Expand ExpandFunc
	// Token is the session token; empty draws a random one.
	Token string
}

// Explorer holds URL templates of a block explorer: {tx} and {address} are replaced.
type Explorer struct {
	Tx      string `json:"tx"`
	Address string `json:"address"`
}

// DefaultExplorers are the block explorers linked when no config is given:
// those of the chain registry (chains/networks). A chain without one (a dev
// chain, Bitcoin, which the registry does not list) gets no links.
func DefaultExplorers() map[string]Explorer {
	ex := map[string]Explorer{}
	all, err := networks.All()
	if err != nil {
		return ex // unreachable: the registry's tests read the embedded file
	}
	for _, n := range all {
		if n.Explorer != "" {
			ex[n.Name] = Explorer{Tx: n.TxURL("{tx}"), Address: n.AddressURL("{address}")}
		}
	}
	return ex
}

// Server serves one folder.
type Server struct {
	opts  Options
	cases []Case
	token string
	page  *template.Template
	mux   *http.ServeMux
}

// Case is one trace folder the server shows.
type Case struct {
	ID  string `json:"id"`
	dir string
}

// ErrNoTrace means the folder holds no graph.json, neither itself nor under cases/.
var ErrNoTrace = errors.New("no graph.json in the folder nor in its cases/*/")

// New opens dir and prepares the handler.
func New(opts Options) (*Server, error) {
	cases, err := findCases(opts.Dir)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, cases: cases, token: opts.Token, mux: http.NewServeMux()}
	if s.token == "" {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("serve: session token: %w", err)
		}
		s.token = hex.EncodeToString(b[:])
	}
	if s.opts.Explorers == nil {
		s.opts.Explorers = DefaultExplorers()
	}
	page, err := fs.ReadFile(webFS, "web/index.html")
	if err != nil {
		return nil, fmt.Errorf("serve: page: %w", err)
	}
	if s.page, err = template.New("index").Parse(string(page)); err != nil {
		return nil, fmt.Errorf("serve: page: %w", err)
	}
	s.routes()
	return s, nil
}

// Token is the session token the page sends on state-changing requests.
func (s *Server) Token() string { return s.token }

// Cases are the cases served, sorted by id.
func (s *Server) Cases() []Case { return s.cases }

// findCases lists dir itself when it holds graph.json, else its cases/*/ folders that do.
func findCases(dir string) ([]Case, error) {
	if _, err := os.Stat(filepath.Join(dir, GraphFile)); err == nil {
		return []Case{{ID: filepath.Base(filepath.Clean(dir)), dir: dir}}, nil
	}
	entries, err := os.ReadDir(filepath.Join(dir, "cases"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("serve: %w", err)
	}
	var cases []Case
	for _, e := range entries {
		sub := filepath.Join(dir, "cases", e.Name())
		if _, err := os.Stat(filepath.Join(sub, GraphFile)); e.IsDir() && err == nil {
			cases = append(cases, Case{ID: e.Name(), dir: sub})
		}
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("serve: %s: %w", dir, ErrNoTrace)
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].ID < cases[j].ID })
	return cases, nil
}

// Loopback reports whether a listen address binds the loopback interface only.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ServeHTTP checks the Host header (no DNS rebinding), sets the security
// headers and routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if !allowedHost(r.Host) {
		http.Error(w, "serve: unexpected Host header; open the page by the address flowtrace serve printed", http.StatusMisdirectedRequest)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// allowedHost accepts loopback names and IP literals: a DNS name other than
// localhost pointing at this server is a rebinding attempt.
func allowedHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	return host == "localhost" || net.ParseIP(host) != nil
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /{$}", s.index)
	s.mux.HandleFunc("GET /app.js", s.asset("web/dist/app.js", "text/javascript; charset=utf-8"))
	s.mux.HandleFunc("GET /app.css", s.asset("web/dist/app.css", "text/css; charset=utf-8"))
	s.mux.HandleFunc("GET /api/config", s.config)
	s.mux.HandleFunc("GET /api/cases", s.listCases)
	s.mux.HandleFunc("GET /api/cases/{id}/graph", s.graph)
	s.mux.HandleFunc("GET /api/cases/{id}/labels", s.labels)
	s.mux.HandleFunc("POST /api/cases/{id}/labels", s.guard(s.addLabel))
	s.mux.HandleFunc("POST /api/cases/{id}/expand", s.guard(s.expand))
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: s.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	var buf bytes.Buffer
	if err := s.page.Execute(&buf, struct{ Token string }{s.token}); err != nil {
		http.Error(w, "serve: page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func (s *Server) asset(name, ctype string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, err := webFS.ReadFile(name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Write(data)
	}
}

// guard refuses state-changing requests that lack the session token and
// cookie, or that come from another origin.
func (s *Server) guard(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && origin != "http://"+r.Host {
			writeError(w, http.StatusForbidden, "cross-origin request refused")
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
			writeError(w, http.StatusForbidden, "cross-site request refused")
			return
		}
		c, err := r.Cookie(cookieName)
		if !s.validToken(r.Header.Get(TokenHeader)) || err != nil || !s.validToken(c.Value) {
			writeError(w, http.StatusForbidden, "missing or wrong session token: reload the page flowtrace serve printed")
			return
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			writeError(w, http.StatusUnsupportedMediaType, "send application/json")
			return
		}
		next(w, r)
	}
}

func (s *Server) validToken(t string) bool {
	return t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(s.token)) == 1
}

func (s *Server) config(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, struct {
		Explorers map[string]Explorer `json:"explorers"`
		Expand    bool                `json:"expand"`
		Batch     bool                `json:"batch"`
	}{s.opts.Explorers, s.opts.Expand != nil, len(s.cases) > 1 || s.cases[0].dir != s.opts.Dir})
}

// caseSummary is a row of the case list.
type caseSummary struct {
	ID    string `json:"id"`
	Case  string `json:"case"`
	Nodes int    `json:"nodes"`
	Edges int    `json:"edges"`
	Stop  string `json:"stop_reason"`
}

func (s *Server) listCases(w http.ResponseWriter, r *http.Request) {
	rows := make([]caseSummary, 0, len(s.cases))
	for _, c := range s.cases {
		row := caseSummary{ID: c.ID}
		var doc struct {
			Case  string            `json:"case"`
			Nodes []json.RawMessage `json:"nodes"`
			Edges []json.RawMessage `json:"edges"`
			Stats struct {
				StopReason string `json:"stop_reason"`
			} `json:"stats"`
		}
		if data, err := os.ReadFile(filepath.Join(c.dir, GraphFile)); err == nil && json.Unmarshal(data, &doc) == nil {
			row.Case, row.Nodes, row.Edges, row.Stop = doc.Case, len(doc.Nodes), len(doc.Edges), doc.Stats.StopReason
		}
		rows = append(rows, row)
	}
	writeJSON(w, rows)
}

// lookup finds the case of the request's {id}.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (Case, bool) {
	id := r.PathValue("id")
	for _, c := range s.cases {
		if c.ID == id {
			return c, true
		}
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("no case %q", id))
	return Case{}, false
}

func (s *Server) graph(w http.ResponseWriter, r *http.Request) {
	c, ok := s.lookup(w, r)
	if !ok {
		return
	}
	f, err := os.Open(filepath.Join(c.dir, GraphFile))
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	io.Copy(w, f)
}

func (s *Server) expand(w http.ResponseWriter, r *http.Request) {
	c, ok := s.lookup(w, r)
	if !ok {
		return
	}
	if s.opts.Expand == nil {
		writeError(w, http.StatusNotImplemented, "expanding needs a node: restart with flowtrace serve --rpc URL")
		return
	}
	var req struct {
		Chain   string `json:"chain"`
		Address string `json:"address"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil || req.Address == "" {
		writeError(w, http.StatusBadRequest, "send {\"chain\",\"address\"}")
		return
	}
	if err := s.opts.Expand(r.Context(), c.dir, req.Chain, req.Address); err != nil {
		writeError(w, http.StatusBadGateway, err.Error())
		return
	}
	s.graph(w, r)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
