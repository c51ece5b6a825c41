package batch

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// Progress reports a batch's progress on stderr: a bar with rate and ETA on
// a terminal, a plain line every interval otherwise (logs, CI).
type Progress struct {
	mu       sync.Mutex
	w        io.Writer
	bar      *progressbar.ProgressBar
	total    int
	done     int
	failed   int
	skipped  int
	start    time.Time
	last     time.Time
	interval time.Duration
}

// NewProgress starts reporting on w for total cases.
func NewProgress(w io.Writer, total int, interval time.Duration) *Progress {
	p := &Progress{w: w, total: total, start: time.Now(), interval: interval}
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("cases"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("cases"),
			progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
	}
	return p
}

// Skip counts a case already finished by an earlier run.
func (p *Progress) Skip() { p.step(false, true) }

// Done counts a finished case.
func (p *Progress) Done(failed bool) { p.step(failed, false) }

func (p *Progress) step(failed, skipped bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if failed {
		p.failed++
	}
	if skipped {
		p.skipped++
	}
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("cases (%d failed)", p.failed))
		p.bar.Add(1)
		return
	}
	if now := time.Now(); now.Sub(p.last) >= p.interval || p.done == p.total {
		p.last = now
		fmt.Fprintln(p.w, p.line(now))
	}
}

// line is the plain progress line.
func (p *Progress) line(now time.Time) string {
	elapsed := now.Sub(p.start)
	ran := p.done - p.skipped
	rate, eta := 0.0, "?"
	if ran > 0 && elapsed > 0 {
		rate = float64(ran) / elapsed.Seconds()
		eta = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("batch: %d/%d cases (%d skipped as done, %d failed), %.2f cases/s, ETA %s",
		p.done, p.total, p.skipped, p.failed, rate, eta)
}

// Finish ends the bar.
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Finish()
	}
}
