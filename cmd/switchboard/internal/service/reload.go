package service

// Reloading the routing config while calls are up. A reload builds a whole
// new routing (config, classifier, router) beside the old one and swaps one
// pointer: a turn already running finishes on the old routing, the next turn
// of every call, whichever replica serves it, uses the new one (calls live in
// the store, not in the router). A config that does not load is refused with
// its problems logged, and the old one stays.
//
// Why poll the file rather than watch it (fsnotify): polling needs no new
// dependency, and it sees every way a file is replaced: an editor's
// write-and-rename, Kubernetes swapping a ConfigMap's symlink, a copy over
// NFS. Inotify watches an inode and loses the file on the first two. Reading
// a few kilobytes every couple of seconds costs nothing measurable, and the
// content's hash (not its mtime) decides, so touching the file changes nothing.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/switchboard/switchboard/flow"
)

// reload loads the config file again and, if it is valid, routes the next
// turns with it. force reloads even when the file has not changed (SIGHUP).
func (svc *Service) reload(ctx context.Context, force bool) error {
	file := svc.conf.ConfigFile
	if file == "" {
		svc.log.InfoContext(ctx, "config reload: running on the embedded example config, nothing to reload")
		return nil
	}
	svc.reloadMu.Lock()
	defer svc.reloadMu.Unlock()
	b, err := os.ReadFile(file)
	if err != nil {
		err = fmt.Errorf("read config: %w", err)
		if svc.configGone && !force {
			return fmt.Errorf("config %s: %w", file, err) // said when it went
		}
		svc.configGone = true
		return svc.refuse(ctx, file, err)
	}
	if svc.configGone {
		svc.configGone = false
		svc.log.InfoContext(ctx, "config file readable again", "file", file)
	}
	sum := sha256.Sum256(b)
	if sum == svc.configSum && !force {
		return nil
	}
	svc.configSum = sum // a refused file is not tried again until it changes
	cfg, err := flow.ParseConfig(bytes.NewReader(b))
	if err != nil {
		return svc.refuse(ctx, file, err)
	}
	rt, err := svc.newRouting(cfg)
	if err != nil {
		return svc.refuse(ctx, file, err)
	}
	svc.current.Store(rt)
	svc.metrics.reloads.WithLabelValues("ok").Inc()
	svc.metrics.reloadTime.SetToCurrentTime()
	svc.log.InfoContext(ctx, "config reloaded", "file", file, "departments", cfg.Routing.DepartmentNames(true))
	return nil
}

// refuse logs each problem of a config that did not load and keeps the old one.
func (svc *Service) refuse(ctx context.Context, file string, err error) error {
	svc.metrics.reloads.WithLabelValues("refused").Inc()
	// One string, problems joined by "; ": it reads the same in text and JSON logs.
	problems := strings.Split(err.Error(), "\n")
	svc.log.ErrorContext(ctx, "config reload refused; still routing with the previous config", "file", file,
		"problems", strings.Join(problems, "; "), "count", len(problems))
	return fmt.Errorf("config %s: %w", file, err)
}

// watchConfig reloads the config when its content changes, checking every
// interval, until ctx ends.
func (svc *Service) watchConfig(ctx context.Context, every time.Duration) {
	if svc.conf.ConfigFile == "" || every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = svc.reload(ctx, false) // a refusal is logged and counted; the old config serves on
		}
	}
}
