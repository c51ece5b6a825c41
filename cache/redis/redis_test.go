package redis_test

import (
	"context"
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/cache"
	"github.com/flowtrace/flowtrace/cache/redis"
	"github.com/flowtrace/flowtrace/cache/redistest"
	"github.com/flowtrace/flowtrace/cache/storetest"
)

func open(t *testing.T, rawURL string) *redis.Store {
	t.Helper()
	s, err := redis.Open(context.Background(), rawURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	n := 0
	storetest.Run(t, func(t *testing.T) cache.Store {
		n++
		// One server, a database per subtest: DeletePrefix("") must not
		// see the others' keys.
		return open(t, strings.TrimSuffix(srv.URL, "/0")+"/"+string(rune('0'+n%10)))
	})
}

func TestPrefixIsolates(t *testing.T) {
	base := redistest.Start(t).URL
	a, b := open(t, base+"?prefix=a:"), open(t, base+"?prefix=b:")
	ctx := context.Background()
	if err := a.SetMany(ctx, map[string][]byte{"k": []byte("A")}); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.GetMany(ctx, []string{"k"}); len(got) != 0 {
		t.Fatalf("prefix b sees prefix a's key: %q", got)
	}
	if n, err := b.DeletePrefix(ctx, ""); err != nil || n != 0 {
		t.Fatalf("b.DeletePrefix = %d, %v", n, err)
	}
	if got, _ := a.GetMany(ctx, []string{"k"}); string(got["k"]) != "A" {
		t.Fatalf("a lost its key: %q", got)
	}
}

// TestPasswordAndDB: a server with a password, reached with it and a DB
// number; a wrong password fails without showing either password.
func TestPasswordAndDB(t *testing.T) {
	srv := redistest.Start(t)
	admin := open(t, srv.URL)
	_ = admin
	ctx := context.Background()
	if err := redisConfigSet(ctx, srv.URL, "requirepass", "s3cret-pw"); err != nil {
		t.Fatal(err)
	}
	good := open(t, "redis://:s3cret-pw@"+srv.Addr+"/3?prefix=p:")
	if err := good.SetMany(ctx, map[string][]byte{"k": []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if d := good.Describe(); strings.Contains(d, "s3cret") {
		t.Fatalf("Describe shows the password: %s", d)
	}
	_, err := redis.Open(ctx, "redis://:wrong-pw-123@"+srv.Addr+"/3")
	if err == nil {
		t.Fatal("a wrong password was accepted")
	}
	if strings.Contains(err.Error(), "wrong-pw-123") {
		t.Fatalf("error shows the password: %v", err)
	}
	other := open(t, "redis://:s3cret-pw@"+srv.Addr+"/4?prefix=p:")
	if got, _ := other.GetMany(ctx, []string{"k"}); len(got) != 0 {
		t.Fatalf("DB 4 sees DB 3's key: %q", got)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"redis://:pw@host:6379/2":           "redis://host:6379/2",
		"rediss://user:pw@host:6380/0?x=pw": "rediss://user@host:6380/0",
		"redis://localhost":                 "redis://localhost",
	} {
		if got := redis.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnreachable(t *testing.T) {
	_, err := redis.Open(context.Background(), "redis://:pw-xyz@127.0.0.1:1/0")
	if err == nil || strings.Contains(err.Error(), "pw-xyz") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("unreachable Redis: %v", err)
	}
}

// BenchmarkHopEntries: 100 entries of 600 bytes (a hop's frontier, ~6
// transfers each) per pipelined call.
func BenchmarkHopEntries(b *testing.B) {
	s, err := redis.Open(context.Background(), redistest.URL(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.Bench(b, s, 600, 100)
}
