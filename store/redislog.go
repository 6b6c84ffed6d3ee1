package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"
)

// SetRedisLogger sends go-redis's own messages (failed dials, pool trouble)
// to log, so that they are lines of the service's log and not plain text
// mixed into it. They go at debug level: the service says what matters once
// in its own words (Redis unreachable at start, /readyz failing), while
// go-redis repeats a failed dial for every command. go-redis keeps its logger in a package variable
// (redis.SetLogger), so this is process-wide: the one global we cannot avoid.
func SetRedisLogger(log *slog.Logger) {
	redis.SetLogger(redisLogger{log})
}

// redisLogger is go-redis's Logging onto slog.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ")
	l.log.DebugContext(ctx, "redis: "+msg)
}
