package memory_test

import (
	"testing"

	"github.com/flowtrace/flowtrace/cache"
	"github.com/flowtrace/flowtrace/cache/memory"
	"github.com/flowtrace/flowtrace/cache/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) cache.Store { return memory.New() })
}
