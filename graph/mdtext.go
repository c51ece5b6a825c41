package graph

// MarkdownText makes text taken from a trace (a label, a symbol, an error)
// safe inside a Markdown paragraph or table cell, as report.md does.
func MarkdownText(s string) string { return mdText(s) }
