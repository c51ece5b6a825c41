package main

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"time"
)

// nodePool keeps a worker's open nodes between cases, so the chain is
// identified once per node rather than per case; a node is identified
// again once older than recheck, and after a case fails on it. Each case
// holds its node alone while it runs.
type nodePool struct {
	mu      sync.Mutex
	idle    []*node
	recheck time.Duration
}

// maxIdleNodes bounds the nodes kept (cases with different label files
// need different nodes).
const maxIdleNodes = 8

// trace runs one trace on a pooled node: runTrace without the set-up.
func (p *nodePool) trace(ctx context.Context, o *traceOptions, stdout, stderr io.Writer) error {
	req, err := o.validate()
	if err != nil {
		return err
	}
	if err := o.checkNode(); err != nil {
		return err
	}
	n := p.take(o.nodeKey(req))
	if n == nil {
		if n, err = o.openNode(ctx, req, stderr); err != nil {
			return err
		}
	}
	err = o.traceOn(ctx, req, n, stdout, stderr)
	var ce *codedError
	if err != nil && !(errors.As(err, &ce) && (ce.code == exitIncomplete || ce.code == exitUsage)) {
		n.close() // the node failed us: identify it again next time
		return err
	}
	p.give(n)
	return err
}

// take returns an idle node opened with key that is fresh enough, or nil.
func (p *nodePool) take(key string) *node {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, n := range p.idle {
		if n.key != key {
			continue
		}
		p.idle = slices.Delete(p.idle, i, i+1)
		if time.Since(n.opened) >= p.recheck {
			n.close()
			return nil
		}
		return n
	}
	return nil
}

// give puts n back, its Source emptied of the case's state (the hop cache
// keeps what later cases may need): a worker's memory does not grow with
// the number of cases.
func (p *nodePool) give(n *node) {
	n.src.Forget()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.idle = append(p.idle, n)
	if len(p.idle) > maxIdleNodes {
		p.idle[0].close()
		p.idle = slices.Delete(p.idle, 0, 1)
	}
}

func (p *nodePool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.idle {
		n.close()
	}
	p.idle = nil
}
