package storetest

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard/switchboard/flow"
)

// RunCallers runs the callers' suite.
func RunCallers(t *testing.T, s flow.Callers) {
	ctx := context.Background()
	key := rand.Text()
	if _, ok, err := s.Recall(ctx, key); err != nil || ok {
		t.Fatalf("Recall of nobody = %v, %v", ok, err)
	}
	v := flow.Visit{Department: "billing", Topic: "a refund", AtMS: time.Now().UnixMilli(), Callback: true}
	if err := s.Remember(ctx, key, v, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Recall(ctx, key)
	if err != nil || !ok {
		t.Fatalf("Recall = %v, %v", ok, err)
	}
	if diff := cmp.Diff(v, got); diff != "" {
		t.Errorf("visit (-want +got):\n%s", diff)
	}
	time.Sleep(200 * time.Millisecond)
	if _, ok, _ := s.Recall(ctx, key); ok {
		t.Error("a caller is remembered past their time")
	}
}
