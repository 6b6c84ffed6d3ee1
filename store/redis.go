package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchboard/switchboard/flow"
)

// Redis keeps calls in Redis, shared by any number of replicas.
//
// A call's keys share one hash tag, so that Redis Cluster keeps them on one
// shard and one script may touch them all:
//
//	sb:{<call>}:call     the flow.Call as JSON
//	sb:{<call>}:in       the inbox, a list of flow.Input as JSON, oldest first, at most flow.MaxInbox
//	sb:{<call>}:drop     how many inputs were ever dropped from the inbox (absent: none)
//	sb:{<call>}:seen     the events' de-duplication keys, a sorted set by arrival (Redis's clock, in us),
//	                     the last flow.MaxMarks and any younger than Expiry.Marks, at most flow.MaxMarksHard
//	sb:{<call>}:speech   the caller's latest voice activity per transcription session, a hash of flow.VoiceActivity as JSON
//	sb:{t:<transcribe>}  the call a transcribe session belongs to; "" once that call left us
//
// Every key expires: a call's keys together, Expiry.Call after its last write
// (Expiry.Ended once it is over or the caller hung up); a link Expiry.Call
// after it was made, an unlink Expiry.Ended. A call that has left us
// (flow.Call.Left) is written no more by events, so nothing renews it.
//
// Why appends and compare-and-set saves rather than locks or WATCH: an event
// must never wait for a fetch, and a fetch must finish within VoIPBin's few
// seconds. So Append is one atomic script (mark, push, expire) that never reads
// the call, and Save is one atomic script that checks the version Load saw,
// writes the new state and trims exactly the inputs the fetch consumed. Inputs
// pushed meanwhile stay behind the trimmed ones for the next fetch; a fetch
// that lost the race gets flow.ErrConflict and steps again from a fresh Load.
// Nothing is lost or read twice, and no lock can be left held by a dead replica.
type Redis struct {
	client redis.UniversalClient
	exp    Expiry
}

var _ flow.Store = (*Redis)(nil)

// Redis serves both of the flow's views of a store.
var (
	_ flow.Calls = (*Redis)(nil)
	_ flow.Inbox = (*Redis)(nil)
)

// OpenRedis returns a Redis store for url, one of:
//
//	redis://[user:password@]host:port[/db][?option=value...]      one server
//	rediss://...                                                   one server over TLS
//	unix://[user:password@]/path/to/socket[?db=N]                  one server, Unix socket
//	redis+cluster://[user:password@]host:port,host:port[?...]      Redis Cluster (seed nodes)
//	redis+sentinel://[user:password@]host:port,host:port/master[/db][?...]
//	                                                               Sentinel; user and password are the master's
//
// rediss+cluster:// and rediss+sentinel:// use TLS. Options are go-redis's
// URL options (dial_timeout=2s, pool_size=20, ...). Context deadlines are always
// honoured, so a request's budget bounds every Redis call, and unless the URL
// says otherwise a command fails within about half a second when Redis is
// down (dial_timeout=1s, dialer_retries=2, max_retries=1).
//
// OpenRedis does not connect: a service must start while Redis is momentarily
// down and recover by itself, so only a malformed url is an error. Use Ping to
// ask whether Redis is reachable. Zero fields of exp take DefaultExpiry's.
func OpenRedis(ctx context.Context, url string, exp Expiry) (*Redis, error) {
	client, err := newRedisClient(url)
	if err != nil {
		return nil, err
	}
	return &Redis{client: client, exp: exp.withDefaults()}, nil
}

// newRedisClient builds, without connecting, the client that url describes.
func newRedisClient(raw string) (redis.UniversalClient, error) {
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, fmt.Errorf("redis url %s: no scheme (want redis://, rediss://, redis+cluster:// or redis+sentinel://)", RedactURL(raw))
	}
	// While Redis is down a command should fail within a fetch's budget, not
	// after go-redis's default of some 3 s of dial retries, so that the caller
	// still has time to answer the call. Options the URL sets win.
	_, query, _ := strings.Cut(raw, "?")
	q, _ := url.ParseQuery(query) // the parsers below report a bad query
	tune := func(contextTimeout *bool, dialTimeout *time.Duration, dialerRetries, maxRetries *int) {
		*contextTimeout = true // a fetch's deadline bounds every command
		if !q.Has("dial_timeout") {
			*dialTimeout = time.Second
		}
		if !q.Has("dialer_retries") {
			*dialerRetries = 2
		}
		if !q.Has("max_retries") {
			*maxRetries = 1
		}
	}
	switch scheme {
	case "redis", "rediss", "unix":
		opt, err := redis.ParseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("redis url %s: %w", RedactURL(raw), err)
		}
		tune(&opt.ContextTimeoutEnabled, &opt.DialTimeout, &opt.DialerRetries, &opt.MaxRetries)
		return redis.NewClient(opt), nil
	case "redis+cluster", "rediss+cluster":
		u, err := multiHostURL(raw, false)
		if err != nil {
			return nil, err
		}
		opt, err := redis.ParseClusterURL(u)
		if err != nil {
			return nil, fmt.Errorf("redis url %s: %w", RedactURL(raw), err)
		}
		tune(&opt.ContextTimeoutEnabled, &opt.DialTimeout, &opt.DialerRetries, &opt.MaxRetries)
		return redis.NewClusterClient(opt), nil
	case "redis+sentinel", "rediss+sentinel":
		u, err := multiHostURL(raw, true)
		if err != nil {
			return nil, err
		}
		opt, err := redis.ParseFailoverURL(u)
		if err != nil {
			return nil, fmt.Errorf("redis url %s: %w", RedactURL(raw), err)
		}
		tune(&opt.ContextTimeoutEnabled, &opt.DialTimeout, &opt.DialerRetries, &opt.MaxRetries)
		return redis.NewFailoverClient(opt), nil
	}
	return nil, fmt.Errorf("redis url %s: unknown scheme %q (want redis://, rediss://, redis+cluster:// or redis+sentinel://)", RedactURL(raw), scheme)
}

// multiHostURL rewrites a redis+cluster:// or redis+sentinel:// url into the
// single-host form with addr= parameters that go-redis parses. For Sentinel the
// first path element is the master's name; the user and password are moved to
// the master's username= and password= options, since Sentinels are usually
// open and the data nodes are not.
func multiHostURL(raw string, sentinel bool) (string, error) {
	bad := func(why string) error { return fmt.Errorf("redis url %s: %s", RedactURL(raw), why) }
	scheme, rest, _ := strings.Cut(raw, "://")
	scheme, _, _ = strings.Cut(scheme, "+")
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	var user *url.Userinfo
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		u, err := url.Parse("x://" + authority[:i+1] + "h")
		if err != nil {
			return "", bad("bad user or password")
		}
		user, authority = u.User, authority[i+1:]
	}
	hosts := strings.Split(authority, ",")
	for _, h := range hosts {
		if host, port, err := splitHostPort(h); err != nil || host == "" || port == "" {
			return "", bad(fmt.Sprintf("bad address %q (want host:port)", h))
		}
	}
	path, query, _ := strings.Cut(tail, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", bad("bad query: " + err.Error())
	}
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	out := url.URL{Scheme: scheme, Host: hosts[0]}
	if sentinel {
		parts := strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
		if len(parts) == 0 || len(parts) > 2 {
			return "", bad("want /<master name>[/<db>] after the sentinel addresses")
		}
		q.Set("master_name", parts[0])
		if len(parts) == 2 {
			out.Path = "/" + parts[1]
		}
		if user != nil {
			if name := user.Username(); name != "" {
				q.Set("username", name)
			}
			if pw, ok := user.Password(); ok {
				q.Set("password", pw)
			}
		}
	} else {
		if strings.Trim(path, "/") != "" {
			return "", bad("a cluster has no databases: remove the path")
		}
		out.User = user
	}
	out.RawQuery = q.Encode()
	return out.String(), nil
}

func splitHostPort(h string) (string, string, error) {
	u, err := url.Parse("x://" + h)
	if err != nil {
		return "", "", err
	}
	if u.Host != h {
		return "", "", errors.New("not host:port")
	}
	return u.Hostname(), u.Port(), nil
}

// RedactURL is url without its password, for error messages and logs.
func RedactURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "(unparsable)"
	}
	end := len(rest)
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		end = i
	}
	if i := strings.LastIndex(rest[:end], "@"); i >= 0 {
		rest = "xxxxx" + rest[i:]
	}
	return scheme + "://" + rest
}

// Close releases the store's connections.
func (r *Redis) Close() error { return r.client.Close() }

// Ping reports whether Redis answers, for /readyz.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}

func callKey(id string) string           { return "sb:{" + id + "}:call" }
func inboxKey(id string) string          { return "sb:{" + id + "}:in" }
func droppedKey(id string) string        { return "sb:{" + id + "}:drop" }
func marksKey(id string) string          { return "sb:{" + id + "}:seen" }
func speechKey(id string) string         { return "sb:{" + id + "}:speech" }
func linkKey(transcribeID string) string { return "sb:{t:" + transcribeID + "}" }

// Load implements flow.Calls in one round trip. GET and LRANGE are pipelined,
// not wrapped in MULTI: a Save that slips between them bumps the version, so
// the Save that follows this Load fails with flow.ErrConflict instead of
// trimming an inbox it did not see; appends only add to the tail.
func (r *Redis) Load(ctx context.Context, id string) (flow.Call, []flow.Input, error) {
	pipe := r.client.Pipeline()
	get := pipe.Get(ctx, callKey(id))
	lrange := pipe.LRange(ctx, inboxKey(id), 0, -1)
	dropped := pipe.Get(ctx, droppedKey(id))
	voices := pipe.HGetAll(ctx, speechKey(id))
	clock := pipe.Time(ctx) // the one clock every replica reads
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return flow.Call{ID: id}, nil, fmt.Errorf("redis load call %s: %w", id, err)
	}
	c := flow.Call{ID: id}
	switch raw, err := get.Bytes(); {
	case errors.Is(err, redis.Nil):
	case err != nil:
		return flow.Call{ID: id}, nil, fmt.Errorf("redis load call %s: %w", id, err)
	default:
		if err := json.Unmarshal(raw, &c); err != nil {
			return flow.Call{ID: id}, nil, fmt.Errorf("redis load call %s: corrupt call: %w", id, err)
		}
		c.ID = id
	}
	raws, err := lrange.Result()
	if err != nil {
		return flow.Call{ID: id}, nil, fmt.Errorf("redis load call %s inbox: %w", id, err)
	}
	if n, err := dropped.Int64(); err == nil {
		c.InboxDropped = n
	} else if !errors.Is(err, redis.Nil) {
		return flow.Call{ID: id}, nil, fmt.Errorf("redis load call %s drop count: %w", id, err)
	}
	now, err := clock.Result()
	if err != nil {
		return flow.Call{ID: id}, nil, fmt.Errorf("redis load call %s: time: %w", id, err)
	}
	c.NowMS = now.UnixMilli()
	fields, err := voices.Result()
	if err != nil {
		return flow.Call{ID: id}, nil, fmt.Errorf("redis load call %s voice: %w", id, err)
	}
	for session, raw := range fields {
		var v flow.VoiceActivity
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return flow.Call{ID: id}, nil, fmt.Errorf("redis load call %s: corrupt voice of %s: %w", id, session, err)
		}
		if c.Voices == nil {
			c.Voices = map[string]flow.VoiceActivity{}
		}
		c.Voices[session] = v
	}
	var inbox []flow.Input
	if len(raws) > 0 {
		inbox = make([]flow.Input, len(raws))
	}
	for i, raw := range raws {
		if err := json.Unmarshal([]byte(raw), &inbox[i]); err != nil {
			return flow.Call{ID: id}, nil, fmt.Errorf("redis load call %s: corrupt inbox entry %d: %w", id, i, err)
		}
	}
	return c, inbox, nil
}

// saveScript compare-and-sets the call and takes the consumed inputs.
// KEYS: call, inbox, drop count, marks, voice. ARGV: the version Load saw, the new
// call's JSON (already at that version + 1), how many inputs to take, the
// expiry in milliseconds, the drop count Load saw. Inputs an Append dropped
// since Load were among those Load returned, so fewer are left to take. The
// stored version is read from the JSON itself so that a call is one small
// string, not a hash.
var saveScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local v = 0
if cur then v = cjson.decode(cur).v or 0 end
if v ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[4])
local taken = tonumber(ARGV[3]) - (tonumber(redis.call('GET', KEYS[3]) or '0') - tonumber(ARGV[5]))
if taken > 0 then redis.call('LTRIM', KEYS[2], taken, -1) end
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
redis.call('PEXPIRE', KEYS[4], ARGV[4])
redis.call('PEXPIRE', KEYS[5], ARGV[4])
return 1
`)

// Save implements flow.Calls in one round trip (after the script is cached on
// the server; the first call on a fresh server costs one more).
func (r *Redis) Save(ctx context.Context, c flow.Call, taken int) error {
	seen := c.Version
	c.Version++
	raw, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("redis save call %s: %w", c.ID, err)
	}
	ttl := r.exp.Call
	if c.Over() {
		ttl = r.exp.Ended
	}
	ok, err := saveScript.Run(ctx, r.client, []string{callKey(c.ID), inboxKey(c.ID), droppedKey(c.ID), marksKey(c.ID), speechKey(c.ID)},
		seen, raw, max(taken, 0), ttl.Milliseconds(), c.InboxDropped).Int()
	if err != nil {
		return fmt.Errorf("redis save call %s: %w", c.ID, err)
	}
	if ok == 0 {
		return flow.ErrConflict
	}
	return nil
}

// leftLua defines left(raw): whether a call's stored JSON says it has left
// us (flow.Call.Left: over, and no decision waiting in "ready"); the states
// are flow's over states.
const leftLua = `
local function left(raw)
  if not raw then return false end
  local c = cjson.decode(raw)
  return (c.s == 'transferred' or c.s == 'ended' or c.s == 'handed_back') and c.ready == nil
end
`

// appendScript pushes an input and marks its event seen, unless it was seen
// or the call has left us.
// KEYS: marks, inbox, call, drop count. ARGV: the event's key, the input's
// JSON, the call's expiry in milliseconds, flow.MaxInbox, flow.MaxMarks,
// flow.MaxMarksHard, the mark window in microseconds, "1" to stamp the input
// with Redis's clock (its JSON then ends in a "t" field for it to fill).
// The push comes first: Redis does not undo a script's writes when a later
// one fails, so a refused push (a read-only replica, an ACL, maxmemory) must
// leave no mark behind, or VoIPBin's retry would be taken for a duplicate
// and the line lost. Marks are scored by Redis's clock, so that the oldest go
// first and their age is one clock's. Every key of the call is kept alive
// together, so that a call that only hears events does not expire under its
// inbox. It returns {added, dropped, left}.
var appendScript = redis.NewScript(leftLua + `
if left(redis.call('GET', KEYS[3])) then return {0, 0, 1} end
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {0, 0, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local input = ARGV[2]
if ARGV[8] == '1' then input = input .. t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000)) .. '}' end
local dropped = redis.call('RPUSH', KEYS[2], input) - tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], now, ARGV[1])
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[5])
if extra > 0 then
  local newest = redis.call('ZRANGE', KEYS[1], extra - 1, extra - 1, 'WITHSCORES')
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', math.min(tonumber(newest[2]), now - tonumber(ARGV[7])))
  local hard = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[6])
  if hard > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, hard - 1) end
end
if dropped > 0 then
  redis.call('LTRIM', KEYS[2], dropped, -1)
  redis.call('INCRBY', KEYS[4], dropped)
else
  dropped = 0
end
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
return {1, dropped, 0}
`)

// Append implements flow.Inbox in one round trip. Its keys share the call's
// hash tag, which Cluster requires of a script's keys; so keys are
// de-duplicated per call.
func (r *Redis) Append(ctx context.Context, id, key string, in flow.Input) (bool, int, error) {
	raw, err := json.Marshal(in)
	if err != nil {
		return false, 0, fmt.Errorf("redis append to call %s: %w", id, err)
	}
	stamp := 0
	if in.At == 0 { // stamped by Redis's clock, the one every replica reads
		stamp, raw = 1, append(raw[:len(raw)-1], `,"t":`...) // raw is an object with a field: Input has no empty one
		if len(raw) == len(`{,"t":`) {
			raw = []byte(`{"t":`)
		}
	}
	ttl := r.exp.Call
	if in.Hangup {
		ttl = r.exp.Ended
	}
	res, err := appendScript.Run(ctx, r.client, []string{marksKey(id), inboxKey(id), callKey(id), droppedKey(id)},
		key, raw, ttl.Milliseconds(), flow.MaxInbox, flow.MaxMarks, flow.MaxMarksHard, r.exp.Marks.Microseconds(), stamp).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("redis append to call %s: %w", id, err)
	}
	if len(res) != 3 {
		return false, 0, fmt.Errorf("redis append to call %s: script answered %v", id, res)
	}
	if res[2] == 1 {
		return false, 0, fmt.Errorf("append to call %s: %w", id, flow.ErrLeft)
	}
	return res[0] == 1, int(res[1]), nil
}

// speakingScript records one session's voice activity, stamped with
// Redis's clock when ARGV[2] is 0 (every replica then reads one clock),
// unless the call has left us; it expires with the call (a call not saved
// yet: after ARGV[4] ms).
// KEYS: speech, call. ARGV: the session, the time in Unix ms or 0, "1" when
// the speech ended, the call's expiry in milliseconds.
var speakingScript = redis.NewScript(leftLua + `
if left(redis.call('GET', KEYS[2])) then return 0 end
local at = ARGV[2]
if at == '0' then
  local t = redis.call('TIME')
  at = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
end
local v = '{"t":' .. at
if ARGV[3] == '1' then v = v .. ',"e":true' end
redis.call('HSET', KEYS[1], ARGV[1], v .. '}')
local ttl = redis.call('PTTL', KEYS[2])
if ttl <= 0 then ttl = ARGV[4] end
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
`)

// Speaking implements flow.Inbox in one round trip.
func (r *Redis) Speaking(ctx context.Context, id, session string, v flow.VoiceActivity) error {
	ended := "0"
	if v.Ended {
		ended = "1"
	}
	ok, err := speakingScript.Run(ctx, r.client, []string{speechKey(id), callKey(id)}, session, v.AtMS, ended, r.exp.Call.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("redis voice of call %s: %w", id, err)
	}
	if ok == 0 {
		return fmt.Errorf("voice of call %s: %w", id, flow.ErrLeft)
	}
	return nil
}

// linkScript links a transcribe session to a call (ARGV[1]), or unlinks it
// (""), unless it was unlinked: a session whose call left us stays so.
// KEYS: the link. ARGV: the call id, the expiry in ms.
var linkScript = redis.NewScript(`
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) == '' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// Link implements flow.Inbox in one round trip.
func (r *Redis) Link(ctx context.Context, transcribeID, callID string) error {
	ttl := r.exp.Call
	if callID == "" {
		ttl = r.exp.Ended
	}
	ok, err := linkScript.Run(ctx, r.client, []string{linkKey(transcribeID)}, callID, ttl.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("redis link transcribe %s to call %s: %w", transcribeID, callID, err)
	}
	if ok == 0 {
		return fmt.Errorf("link transcribe %s to call %s: %w", transcribeID, callID, flow.ErrLeft)
	}
	return nil
}

// Resolve implements flow.Inbox.
func (r *Redis) Resolve(ctx context.Context, transcribeID string) (string, error) {
	id, err := r.client.Get(ctx, linkKey(transcribeID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", flow.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("redis resolve transcribe %s: %w", transcribeID, err)
	}
	return id, nil
}

// withDefaults fills zero fields from DefaultExpiry and rounds everything up
// to Redis's millisecond, since an expiry of 0 ms is an error there.
func (e Expiry) withDefaults() Expiry {
	fix := func(d, def time.Duration) time.Duration {
		if d <= 0 {
			return def
		}
		return max(d, time.Millisecond)
	}
	return Expiry{
		Call:  fix(e.Call, DefaultExpiry.Call),
		Ended: fix(e.Ended, DefaultExpiry.Ended),
		Marks: fix(e.Marks, DefaultExpiry.Marks),
	}
}
