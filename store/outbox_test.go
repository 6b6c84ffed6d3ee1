package store

import (
	"crypto/rand"
	"testing"

	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store/redistest"
	"github.com/switchboard/switchboard/store/storetest"
)

func TestMemoryOutbox(t *testing.T) {
	storetest.RunOutbox(t, func(*testing.T) flow.Outbox { return NewMemoryOutbox() })
}

func TestRedisOutbox(t *testing.T) {
	r := openRedis(t, redistest.Start(t))
	storetest.RunOutbox(t, func(*testing.T) flow.Outbox { return r.Outbox(":" + rand.Text()) })
}

func TestRedisClusterOutbox(t *testing.T) {
	t.Parallel()
	r := openRedis(t, redistest.StartCluster(t))
	storetest.RunOutbox(t, func(*testing.T) flow.Outbox { return r.Outbox(":" + rand.Text()) })
}

func TestMemoryCallbacks(t *testing.T) {
	storetest.RunCallbacks(t, func(*testing.T) flow.Callbacks { return NewMemoryCallbacks() })
}

func TestRedisCallbacks(t *testing.T) {
	r := openRedis(t, redistest.Start(t))
	storetest.RunCallbacks(t, func(*testing.T) flow.Callbacks { return r.Callbacks(":" + rand.Text()) })
}

func TestRedisClusterCallbacks(t *testing.T) {
	t.Parallel()
	r := openRedis(t, redistest.StartCluster(t))
	storetest.RunCallbacks(t, func(*testing.T) flow.Callbacks { return r.Callbacks(":" + rand.Text()) })
}

func TestMemoryCallers(t *testing.T) { storetest.RunCallers(t, NewMemoryCallers()) }

func TestRedisCallers(t *testing.T) {
	storetest.RunCallers(t, openRedis(t, redistest.Start(t)).Callers())
}

func TestMemoryTimers(t *testing.T) {
	storetest.RunTimers(t, func(*testing.T) flow.Timers { return NewMemoryTimers() })
}

func TestRedisTimers(t *testing.T) {
	r := openRedis(t, redistest.Start(t))
	storetest.RunTimers(t, func(*testing.T) flow.Timers { return r.Timers(":" + rand.Text()) })
}

func TestRedisClusterTimers(t *testing.T) {
	t.Parallel()
	r := openRedis(t, redistest.StartCluster(t))
	storetest.RunTimers(t, func(*testing.T) flow.Timers { return r.Timers(":" + rand.Text()) })
}
