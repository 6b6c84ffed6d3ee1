// Package redistest gives tests a real Redis: the server REDIS_URL names, or a
// private redis-server started for the test and killed when it ends, or a
// private three-node Redis Cluster. Without a redis-server on PATH the tests
// that need one are skipped with a loud notice, or fail when
// SWITCHBOARD_REQUIRE_REDIS=1 (as CI should set).
//
// A Redis shared between tests (REDIS_URL) is not flushed: tests must keep to
// keys of their own, such as call ids with a random prefix.
package redistest

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Start returns the URL of a Redis for t: REDIS_URL when it is set, otherwise
// a private server that lives as long as t.
func Start(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return StartServer(t).URL()
}

// Server is a private redis-server on a loopback port, without persistence
// unless started Durable, that a test can stop and restart to play an outage.
// It is killed when the test ends. Its methods must be called from the test's goroutine.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	args []string
	conf string // a config file, first on the command line (a Sentinel's)

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// StartServer starts a private redis-server for t and waits until it answers.
// Extra arguments are passed to redis-server (see Durable).
func StartServer(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := lookPath(t, "redis-server")
	var lastErr error
	// The free port found may be taken again before redis-server binds it:
	// try a few.
	for range 5 {
		s := &Server{t: t, bin: bin, dir: t.TempDir(), port: freePort(t, false), args: extra}
		if lastErr = s.start(); lastErr == nil {
			t.Cleanup(s.Stop)
			return s
		}
	}
	t.Fatalf("redistest: start redis-server: %v", lastErr)
	return nil
}

// Durable makes a StartServer keep every write in an append-only file, as a
// production Redis does, so that Stop and Restart play an outage without data loss.
var Durable = []string{"--appendonly", "yes", "--appendfsync", "always"}

// URL returns the server's URL, redis://127.0.0.1:<port>/0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Addr returns the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Stop kills the server abruptly, as a crash would; it is a no-op when the
// server is not running. Everything it held is lost, since it does not persist.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Restart starts the server again on the same port, and waits until it
// answers; it is empty unless started Durable. A running server is stopped first.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatalf("redistest: restart redis-server on %s: %v", s.Addr(), err)
	}
}

// Pause freezes the server (SIGSTOP), as a stalled host or a long fork
// does: connections stay open and commands wait, unanswered, until Resume.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume thaws a paused server (SIGCONT); the commands that waited are served.
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(sig)
	}
}

// Do sends one command to the server and returns its simple, integer or
// bulk string reply, as the superuser: a test sets ACLs or reads keys with it.
func (s *Server) Do(args ...string) (string, error) { return command(s.Addr(), args...) }

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var args []string
	if s.conf != "" {
		args = []string{s.conf, "--sentinel"}
	}
	args = append(args, []string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", filepath.Join(s.dir, "redis.log"),
	}...)
	args = append(args, s.args...)
	cmd := exec.Command(s.bin, args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(5 * time.Second)
	for {
		reply, err := command(s.Addr(), "PING")
		if err == nil && reply == "PONG" {
			return nil
		}
		select {
		case <-done:
			s.cmd = nil
			return fmt.Errorf("redis-server exited: %s", s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			s.cmd = nil
			return fmt.Errorf("no answer after 5s (%v): %s", err, s.logTail())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], " | ")
}

// Sentinel is a private Redis Sentinel deployment: a master, one replica
// and one Sentinel watching them (quorum 1), quick to fail over: the master is
// judged down after half a second.
type Sentinel struct {
	Master, Replica *Server
	// Sentinel is the Sentinel process itself.
	Sentinel *Server
}

// SentinelMaster is the name the Sentinel knows the master by.
const SentinelMaster = "switchboard"

// StartSentinel starts a Sentinel deployment for t and waits until the
// Sentinel sees the replica. The master and replica are Durable.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	master := StartServer(t, Durable...)
	replica := StartServer(t, append([]string{"--replicaof", "127.0.0.1", strconv.Itoa(master.port)}, Durable...)...)
	bin := lookPath(t, "redis-server")
	var sent *Server
	var err error
	for range 5 {
		dir := t.TempDir()
		conf := filepath.Join(dir, "sentinel.conf")
		text := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]d 1\n"+
			"sentinel down-after-milliseconds %[1]s 500\n"+
			"sentinel failover-timeout %[1]s 5000\n", SentinelMaster, master.port)
		if err = os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		sent = &Server{t: t, bin: bin, dir: dir, port: freePort(t, false), conf: conf}
		if err = sent.start(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("redistest: start sentinel: %v", err)
	}
	t.Cleanup(sent.Stop)
	sd := &Sentinel{Master: master, Replica: replica, Sentinel: sent}
	sd.waitFor(t, "the sentinel to see the replica", 15*time.Second, func() bool {
		info, err := command(sent.Addr(), "INFO", "sentinel")
		return err == nil && strings.Contains(info, "name="+SentinelMaster+",status=ok") && strings.Contains(info, "slaves=1")
	})
	return sd
}

// URL returns the deployment's URL in OpenRedis's redis+sentinel:// form.
func (sd *Sentinel) URL() string {
	return "redis+sentinel://" + sd.Sentinel.Addr() + "/" + SentinelMaster
}

// WaitReplicated waits until the replica has every write the master has taken.
func (sd *Sentinel) WaitReplicated(t testing.TB) {
	t.Helper()
	sd.waitFor(t, "the replica to catch up", 10*time.Second, func() bool {
		n, err := command(sd.Master.Addr(), "WAIT", "1", "100")
		return err == nil && n == "1"
	})
}

// Failover kills the master, as a crash would, and waits until the Sentinel
// has promoted the replica.
func (sd *Sentinel) Failover(t testing.TB) {
	t.Helper()
	sd.Master.Stop()
	sd.waitFor(t, "the sentinel to promote the replica", 20*time.Second, func() bool {
		info, err := command(sd.Replica.Addr(), "INFO", "replication")
		return err == nil && strings.Contains(info, "role:master")
	})
}

func (sd *Sentinel) waitFor(t testing.TB, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("redistest: waited %v for %s; sentinel log: %s", limit, what, sd.Sentinel.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// StartCluster returns the URL of a Redis Cluster for t, in OpenRedis's
// redis+cluster:// form: REDIS_CLUSTER_URL when it is set, otherwise three
// private masters (no replicas) that live as long as t. Creating the cluster
// takes a second or two.
func StartCluster(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("REDIS_CLUSTER_URL"); u != "" {
		return u
	}
	bin := lookPath(t, "redis-server")
	cli := lookPath(t, "redis-cli")
	var addrs []string
	for range 3 {
		var s *Server
		var err error
		for range 5 {
			// A cluster node also listens on its port + 10000, the cluster bus.
			s = &Server{t: t, bin: bin, dir: t.TempDir(), port: freePort(t, true),
				args: []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"}}
			if err = s.start(); err == nil {
				break
			}
		}
		if err != nil {
			t.Fatalf("redistest: start cluster node: %v", err)
		}
		t.Cleanup(s.Stop)
		addrs = append(addrs, s.Addr())
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, addr := range addrs {
		for {
			info, err := command(addr, "CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("redistest: cluster on %v not ok after 10s: %v %s", addrs, err, info)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return "redis+cluster://" + strings.Join(addrs, ",")
}

// lookPath finds a Redis binary or gives up on the test: loudly, since a
// skipped store suite can hide a broken store.
func lookPath(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("SWITCHBOARD_REQUIRE_REDIS") == "1" {
		t.Fatalf("redistest: SWITCHBOARD_REQUIRE_REDIS=1 but %s is not on PATH: %v", name, err)
	}
	msg := fmt.Sprintf("!!! SKIPPING %s: %s is not on PATH and REDIS_URL is not set, so the Redis store is NOT tested. "+
		"Install Redis or set REDIS_URL; set SWITCHBOARD_REQUIRE_REDIS=1 to make this a failure. !!!", t.Name(), name)
	fmt.Fprintln(os.Stderr, msg)
	t.Skip(msg)
	return ""
}

// freePort returns a loopback port nobody listens on; with bus, one whose
// port + 10000 is free too, for a cluster node.
func freePort(t testing.TB, bus bool) int {
	t.Helper()
	for range 100 {
		port := 20000 + rand.IntN(35000)
		if !bus {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatalf("redistest: find a free port: %v", err)
			}
			port = l.Addr().(*net.TCPAddr).Port
			_ = l.Close()
			return port
		}
		if free(port) && free(port+10000) {
			return port
		}
	}
	t.Fatalf("redistest: no free port pair for a cluster node")
	return 0
}

func free(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// command sends one command over a fresh connection and returns a simple,
// integer or bulk string reply; an error reply is an error. It is all the
// protocol the helpers need, and keeps them free of any client library.
func command(addr string, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return "", err
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", fmt.Errorf("redis: %s", line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", fmt.Errorf("redis: nil or bad bulk reply %q", line)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("redis: unexpected reply %q", line)
}
