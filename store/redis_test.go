package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store/redistest"
	"github.com/switchboard/switchboard/store/storetest"
)

func TestRedis(t *testing.T) {
	r := openRedis(t, redistest.Start(t))
	storetest.Run(t, func(*testing.T) storetest.Store { return redisTTLs{r} })
}

func TestRedisCluster(t *testing.T) {
	t.Parallel()
	r := openRedis(t, redistest.StartCluster(t))
	if _, ok := r.client.(*redis.ClusterClient); !ok {
		t.Fatalf("client is a %T, want a cluster client", r.client)
	}
	storetest.Run(t, func(*testing.T) storetest.Store { return redisTTLs{r} })
}

func openRedis(t testing.TB, url string) *Redis {
	t.Helper()
	r, err := OpenRedis(t.Context(), url, testExpiry)
	if err != nil {
		t.Fatalf("OpenRedis(%s): %v", url, err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// redisTTLs lets storetest check that every key expires.
type redisTTLs struct{ *Redis }

func (r redisTTLs) TTLs(ctx context.Context, prefix string) (map[string]time.Duration, error) {
	var mu sync.Mutex
	ttls := map[string]time.Duration{}
	scan := func(ctx context.Context, c *redis.Client) error {
		for _, pattern := range []string{"sb:{" + prefix + "*", "sb:{t:" + prefix + "*"} {
			iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
			for iter.Next(ctx) {
				ttl, err := c.PTTL(ctx, iter.Val()).Result()
				if err != nil {
					return err
				}
				mu.Lock()
				ttls[iter.Val()] = ttl
				mu.Unlock()
			}
			if err := iter.Err(); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	switch c := r.client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, scan)
	case *redis.Client:
		err = scan(ctx, c)
	default:
		err = fmt.Errorf("cannot scan a %T", c)
	}
	return ttls, err
}

func TestOpenRedisURLs(t *testing.T) {
	for _, tt := range []struct {
		name, url string
		check     func(t *testing.T, c redis.UniversalClient)
	}{
		{"single", "redis://:secret@127.0.0.1:6379/3?dial_timeout=2s", func(t *testing.T, c redis.UniversalClient) {
			o := c.(*redis.Client).Options()
			if o.Addr != "127.0.0.1:6379" || o.DB != 3 || o.Password != "secret" || o.DialTimeout != 2*time.Second || !o.ContextTimeoutEnabled {
				t.Errorf("options = %+v", o)
			}
		}},
		{"tls", "rediss://user:pw@redis.example:6380", func(t *testing.T, c redis.UniversalClient) {
			o := c.(*redis.Client).Options()
			if o.TLSConfig == nil || o.TLSConfig.ServerName != "redis.example" || o.Username != "user" ||
				o.DialTimeout != time.Second || o.DialerRetries != 2 || o.MaxRetries != 1 { // fail fast by default
				t.Errorf("options = %+v", o)
			}
		}},
		{"cluster", "redis+cluster://u:p%40ss@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002?max_redirects=5", func(t *testing.T, c redis.UniversalClient) {
			o := c.(*redis.ClusterClient).Options()
			if got, want := strings.Join(o.Addrs, " "), "10.0.0.1:7000 10.0.0.2:7001 [::1]:7002"; got != want {
				t.Errorf("addrs = %s, want %s", got, want)
			}
			if o.Username != "u" || o.Password != "p@ss" || o.MaxRedirects != 5 || o.TLSConfig != nil || !o.ContextTimeoutEnabled {
				t.Errorf("options = %+v", o)
			}
		}},
		{"cluster tls", "rediss+cluster://h1:7000,h2:7000", func(t *testing.T, c redis.UniversalClient) {
			if o := c.(*redis.ClusterClient).Options(); o.TLSConfig == nil || len(o.Addrs) != 2 {
				t.Errorf("options = %+v", o)
			}
		}},
		{"cluster, empty user info", "redis+cluster://@h1:7000,h2:7001", func(t *testing.T, c redis.UniversalClient) {
			if o := c.(*redis.ClusterClient).Options(); strings.Join(o.Addrs, " ") != "h1:7000 h2:7001" || o.Username != "" {
				t.Errorf("options = %+v", o)
			}
		}},
		{"sentinel", "redis+sentinel://:pw@s1:26379,s2:26379/mymaster/2", func(t *testing.T, c redis.UniversalClient) {
			// A failover client hides its options; that it is one is what we can see.
			if _, ok := c.(*redis.Client); !ok {
				t.Errorf("client is a %T", c)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := OpenRedis(t.Context(), tt.url, Expiry{})
			if err != nil {
				t.Fatalf("OpenRedis: %v", err)
			}
			defer r.Close()
			tt.check(t, r.client)
			if r.exp != DefaultExpiry {
				t.Errorf("expiry = %+v, want the defaults for a zero Expiry", r.exp)
			}
		})
	}
}

func TestSentinelURL(t *testing.T) {
	got, err := multiHostURL("redis+sentinel://:pw@s1:26379,s2:26379/mymaster/2?dial_timeout=1s", true)
	if err != nil {
		t.Fatal(err)
	}
	o, err := redis.ParseFailoverURL(got)
	if err != nil {
		t.Fatalf("ParseFailoverURL(%s): %v", got, err)
	}
	if o.MasterName != "mymaster" || o.DB != 2 || o.Password != "pw" || o.SentinelPassword != "" ||
		strings.Join(o.SentinelAddrs, " ") != "s1:26379 s2:26379" || o.DialTimeout != time.Second {
		t.Errorf("%s parses to %+v", got, o)
	}
}

// TestSentinelURLUser: a user name in a Sentinel URL is the data nodes'.
func TestSentinelURLUser(t *testing.T) {
	got, err := multiHostURL("redis+sentinel://u:pw@s1:26379/mymaster", true)
	if err != nil {
		t.Fatal(err)
	}
	o, err := redis.ParseFailoverURL(got)
	if err != nil || o.Username != "u" || o.Password != "pw" || o.MasterName != "mymaster" {
		t.Errorf("%s parses to %+v, %v", got, o, err)
	}
}

func TestOpenRedisBadURLs(t *testing.T) {
	for _, url := range []string{
		"",
		"localhost:6379",
		"http://localhost:6379",
		"redis://localhost:6379/notadb",
		"redis://localhost:6379/0?no_such_option=1",
		"redis+cluster://",
		"redis+cluster://h1:7000,,h2:7000",
		"redis+cluster://h1:7000/0",
		"redis+cluster://h1:7000?bogus=1",
		"redis+sentinel://s1:26379",
		"redis+sentinel://s1:26379/master/db/extra",
		"redis+sentinel://s1:26379/master/notadb",
	} {
		if r, err := OpenRedis(t.Context(), url, DefaultExpiry); err == nil {
			r.Close()
			t.Errorf("OpenRedis(%q) succeeded, want an error", url)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("error shows the password: %v", err)
		}
	}
	_, err := OpenRedis(t.Context(), "redis://:secret@host:6379/x", DefaultExpiry)
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("error for a bad url with a password = %v, want one without the password", err)
	}
}

// TestRedisOutage stops Redis under an open store: the store reports errors
// meanwhile, and works again once Redis is back, without being reopened.
func TestRedisOutage(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	srv.Stop()
	r := openRedis(t, srv.URL()) // Redis is down at start: still no error
	ctx := t.Context()
	if err := r.Ping(ctx); err == nil {
		t.Fatal("Ping succeeded with Redis down")
	}
	srv.Restart()
	if err := r.Save(ctx, flow.Call{ID: "outage"}, 0); err != nil {
		t.Fatalf("Save after Redis came up: %v", err)
	}

	srv.Stop()
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, _, err := r.Load(short, "outage"); err == nil || !strings.Contains(err.Error(), "redis load call outage") {
		t.Errorf("Load with Redis down: err = %v, want a wrapped error", err)
	}
	if _, _, err := r.Append(short, "outage", "k", flow.Input{Text: "hi"}); err == nil {
		t.Error("Append with Redis down succeeded")
	}

	srv.Restart() // empty: it does not persist, and the scripts must be loaded again
	deadline := time.Now().Add(5 * time.Second)
	for r.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("store did not recover within 5s of Redis restarting")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if added, _, err := r.Append(ctx, "outage", "k", flow.Input{Text: "hi"}); err != nil || !added {
		t.Errorf("Append after the restart = %v, %v", added, err)
	}
	c, inbox, err := r.Load(ctx, "outage")
	if err != nil || c.Version != 0 || len(inbox) != 1 {
		t.Errorf("Load after the restart = %+v, %v, %v; want a fresh call with one input", c, inbox, err)
	}
}

func TestRedisCorrupt(t *testing.T) {
	r := openRedis(t, redistest.Start(t))
	ctx := t.Context()
	id := uniqueID("corrupt-")
	if err := r.client.Set(ctx, callKey(id), "{not json", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Load(ctx, id); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("Load of a corrupt call: err = %v, want corrupt", err)
	}
	if err := r.Save(ctx, flow.Call{ID: id}, 0); err == nil || errors.Is(err, flow.ErrConflict) {
		t.Errorf("Save over a corrupt call: err = %v, want a store error", err)
	}
}

// roundTrips counts commands and pipelines sent, each one round trip. The
// handshake of a new connection (HELLO, CLIENT SETINFO, ...) goes through the
// hooks too; it is counted apart, as setup, since a warm pool does not pay it.
type roundTrips struct{ n, setup atomic.Int64 }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.add(cmd)
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.add(cmds[0])
		return next(ctx, cmds)
	}
}

func (h *roundTrips) add(first redis.Cmder) {
	switch first.Name() {
	case "hello", "auth", "select", "client":
		h.setup.Add(1)
	default:
		h.n.Add(1)
	}
}

// warmScripts loads the store's scripts on every server, as the first Save
// and Append that reach a server do (one more round trip each, NOSCRIPT then
// EVAL) in a service that has been running.
func warmScripts(t testing.TB, r *Redis) {
	t.Helper()
	load := func(ctx context.Context, c *redis.Client) error {
		for _, s := range []*redis.Script{saveScript, appendScript, linkScript, speakingScript} {
			if err := s.Load(ctx, c).Err(); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	switch c := r.client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(t.Context(), load)
	case *redis.Client:
		err = load(t.Context(), c)
	}
	if err != nil {
		t.Fatalf("load scripts: %v", err)
	}
}

// count returns how many round trips f made.
func (h *roundTrips) count(f func()) int64 {
	before := h.n.Load()
	f()
	return h.n.Load() - before
}

// TestRedisFootprint measures a three-turn call as VoIPBin drives it: the
// bytes it leaves in Redis and the round trips of each fetch and event.
func TestRedisFootprint(t *testing.T) {
	t.Parallel()
	measure := func(t *testing.T, url string) {
		r := openRedis(t, url)
		rt := &roundTrips{}
		r.client.AddHook(rt)
		ctx := t.Context()
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		warmScripts(t, r)
		coldID := uniqueID("cold-")
		cold := rt.count(func() {
			_, _, err := r.Load(ctx, coldID)
			must(err)
			must(r.Save(ctx, flow.Call{ID: coldID}, 0))
			_, _, err = r.Append(ctx, coldID, "k", flow.Input{Text: "x"})
			must(err)
		})

		id := uniqueID("")
		transcribe := uniqueID("")
		fetch := func(step func(c *flow.Call, inbox []flow.Input)) int64 {
			return rt.count(func() {
				c, inbox, err := r.Load(ctx, id)
				must(err)
				step(&c, inbox)
				must(r.Save(ctx, c, len(inbox)))
			})
		}
		var fetches, events []int64
		now := time.Now().UnixMilli()
		fetches = append(fetches, fetch(func(c *flow.Call, _ []flow.Input) {
			c.State, c.Language, c.StartedMS, c.UpdatedMS, c.Actions = flow.StateListening, "en-US", now, now, 4
		}))
		events = append(events, rt.count(func() { must(r.Link(ctx, transcribe, id)) }))
		said := []string{
			"hi there",
			"I have a question about my last invoice, I think I was charged twice",
			"yes the one from March, for the premium plan",
		}
		for i, words := range said {
			events = append(events, rt.count(func() {
				_, _, err := r.Append(ctx, id, "transcript_created:"+uniqueID(""), flow.Input{Text: words})
				must(err)
			}))
			fetches = append(fetches, fetch(func(c *flow.Call, inbox []flow.Input) {
				for _, in := range inbox {
					c.Turns = append(c.Turns, in.Text)
				}
				c.UpdatedMS, c.Actions, c.SilenceMS = now+int64(i+1)*4000, c.Actions+3, 0
				c.State = flow.StateClarifying
				if i == len(said)-1 {
					c.State, c.Department, c.Reason = flow.StateTransferred, "billing", "model"
				}
			}))
		}

		ttls, err := redisTTLs{r}.TTLs(ctx, id)
		must(err)
		var keys []string
		for k := range ttls {
			keys = append(keys, k)
		}
		keys = append(keys, linkKey(transcribe))
		sort.Strings(keys)
		var total int64
		for _, k := range keys {
			n, err := r.client.MemoryUsage(ctx, k, 0).Result()
			must(err)
			total += n
			t.Logf("%6d B  %s", n, k)
		}
		raw, err := r.client.Get(ctx, callKey(id)).Result()
		must(err)
		t.Logf("3-turn call: %d keys, %d bytes in Redis (MEMORY USAGE), call JSON %d bytes", len(keys), total, len(raw))
		t.Logf("round trips per fetch (load+save): %v; per event (link, then appends): %v", fetches, events)
		t.Logf("first load, save and append on a fresh client: %d round trips and %d connection handshakes", cold, rt.setup.Load())
		for _, n := range fetches {
			if n != 2 {
				t.Errorf("a fetch took %d round trips, want 2", n)
			}
		}
		for _, n := range events {
			if n != 1 {
				t.Errorf("an event took %d round trips, want 1", n)
			}
		}
		if total > 2048 {
			t.Errorf("a 3-turn call takes %d bytes, over the 2 KB goal", total)
		}
	}
	t.Run("single", func(t *testing.T) { t.Parallel(); measure(t, redistest.Start(t)) })
	t.Run("cluster", func(t *testing.T) { t.Parallel(); measure(t, redistest.StartCluster(t)) })
}

// uniqueID returns a random UUID like VoIPBin's ids, so runs sharing a Redis
// never meet.
func uniqueID(prefix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%s%x-%x-%x-%x-%x", prefix, b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// BenchmarkRedisFetch measures a fetch: Load, then Save taking one input that
// an event appended.
func BenchmarkRedisFetch(b *testing.B) {
	r := openRedis(b, redistest.Start(b))
	warmScripts(b, r)
	rt := &roundTrips{}
	r.client.AddHook(rt)
	ctx := b.Context()
	id := uniqueID("bench-")
	var fetches int64
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		if _, _, err := r.Append(ctx, id, strconv.Itoa(i), flow.Input{Text: "I want to pay my bill"}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		fetches += rt.count(func() {
			c, inbox, err := r.Load(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			c.Turns = append(c.Turns[:0], "I want to pay my bill") // keep the call small
			if err := r.Save(ctx, c, len(inbox)); err != nil {
				b.Fatal(err)
			}
		})
	}
	b.ReportMetric(float64(fetches)/float64(b.N), "roundtrips/op")
}

// BenchmarkRedisAppend measures an event: one Append.
func BenchmarkRedisAppend(b *testing.B) {
	r := openRedis(b, redistest.Start(b))
	warmScripts(b, r)
	rt := &roundTrips{}
	r.client.AddHook(rt)
	ctx := b.Context()
	id := uniqueID("bench-")
	var events int64
	for i := 0; b.Loop(); i++ {
		if i%1000 == 0 {
			id = uniqueID("bench-") // keep the inbox a realistic size
		}
		events += rt.count(func() {
			if _, _, err := r.Append(ctx, id, strconv.Itoa(i), flow.Input{Text: "I want to pay my bill"}); err != nil {
				b.Fatal(err)
			}
		})
	}
	b.ReportMetric(float64(events)/float64(b.N), "roundtrips/op")
}

// TestRedisSentinel runs the conformance suite through a real Sentinel, then
// fails the master over in the middle of a call: the call goes on, on the
// promoted replica, with every line the caller said before and after.
func TestRedisSentinel(t *testing.T) {
	t.Parallel()
	sd := redistest.StartSentinel(t)
	r := openRedis(t, sd.URL())
	t.Run("conformance", func(t *testing.T) {
		storetest.Run(t, func(*testing.T) storetest.Store { return redisTTLs{r} })
	})
	t.Run("failover mid-call", func(t *testing.T) {
		cfg := flow.ExampleConfig()
		router := flow.NewRouter(cfg, r, flow.NewLocal(cfg), nil, slog.New(slog.DiscardHandler))
		ctx := t.Context()
		id := uniqueID("sentinel-")
		turn := flow.Turn{CallID: id, Channel: flow.Voice}
		say := func(key, words string) {
			t.Helper()
			// As the event handler does: keep trying while the failover runs.
			deadline := time.Now().Add(10 * time.Second)
			for {
				_, _, err := r.Append(ctx, id, key, flow.Input{Text: words})
				if err == nil {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("Append %q: %v", words, err)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		words := flow.Turn{CallID: id, Channel: flow.Voice, OnWords: true}
		router.Next(ctx, turn) // greeting
		say("1", "hello")
		router.Next(ctx, words) // the turn the event handler plays on the words
		if acts := router.Next(ctx, turn).Actions; lastKind(acts) != flow.ActListen || len(acts) < 2 {
			t.Fatalf("a vague first line should be asked to clarify, got %+v", acts)
		}
		sd.WaitReplicated(t)
		sd.Failover(t)
		say("2", "I have a question about a double charge on my invoice")
		var acts []flow.Action
		deadline := time.Now().Add(10 * time.Second)
		for {
			// Until the client has followed the Sentinel to the new master, a
			// fetch gets the fallback desk: that is the router's contract. Load
			// first, so only a fetch that sees the call is stepped.
			if _, _, err := r.Load(ctx, id); err == nil {
				router.Next(ctx, words)
				acts = router.Next(ctx, turn).Actions
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the store did not follow the failover within 10 s")
			}
			time.Sleep(100 * time.Millisecond)
		}
		c, _, err := r.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Department != "billing" || len(c.Turns) != 2 || c.Turns[0] != "hello" {
			t.Errorf("after the failover: department %q, turns %q; want billing, both lines (actions %+v)", c.Department, c.Turns, acts)
		}
	})
}

func lastKind(acts []flow.Action) flow.ActionKind {
	if len(acts) == 0 {
		return ""
	}
	return acts[len(acts)-1].Kind
}

// TestRedisRefusedInboxWrite: a Redis that refuses only the inbox write (a
// script error on it: here the inbox key holds a string) fails the Append
// and remembers nothing of it, so that the retry, once the write is
// allowed, stores the line instead of taking it for a duplicate. (An ACL
// user who may not write inbox keys, a read-only replica and maxmemory are
// refused before the script writes anything.)
func TestRedisRefusedInboxWrite(t *testing.T) {
	srv := redistest.StartServer(t)
	r := openRedis(t, srv.URL())
	ctx := t.Context()
	id := uniqueID("refused-")
	in := flow.Input{Text: "my invoice shows a double charge"}
	if _, err := srv.Do("SET", inboxKey(id), "not a list"); err != nil {
		t.Fatal(err)
	}
	if added, _, err := r.Append(ctx, id, "evt-1", in); err == nil || added {
		t.Fatalf("Append with the inbox write refused = %v, %v; want an error", added, err)
	}
	if _, err := srv.Do("DEL", inboxKey(id)); err != nil {
		t.Fatal(err)
	}
	if added, _, err := r.Append(ctx, id, "evt-1", in); err != nil || !added {
		t.Fatalf("the retry once the write is allowed = %v, %v; want the line stored", added, err)
	}
	if _, inbox, err := r.Load(ctx, id); err != nil || len(inbox) != 1 || inbox[0].Text != in.Text {
		t.Errorf("inbox %v, %v; want the line once", inbox, err)
	}
}
