package service

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"time"

	"github.com/switchboard/switchboard/flow"
)

// Config is what the service is built with; package service fills it from
// flags and the environment.
type Config struct {
	ConfigFile string // empty: the embedded example config
	RedisURL   string
	OpenAIKey  string
	OpenAIURL  string
	Model      string
	PublicURL  string // base of the fetch URLs handed to VoIPBin; empty: from the request
	FetchToken string
	Secret     string // VoIPBin webhook signing secret
	// AccessKey reaches VoIPBin's REST API at APIURL, to stop the
	// transcriptions of calls that left us; empty: they run on.
	AccessKey string
	APIURL    string
	// MessagesSecret signs the webhooks that tell a business of a message;
	// HashKey keys the hash returning callers are remembered by.
	MessagesSecret string
	HashKey        string
	// ModelConns bounds the model requests in flight, and the connections
	// kept open to the model; 0: prompts.DefaultMaxConcurrent.
	ModelConns int
	// WebhookToken is the bearer token /webhook/call-handler requires; empty: none.
	WebhookToken string
	// LogTranscripts keeps callers' words and numbers in the logs.
	LogTranscripts bool
	// At is the moment calls start at, for opening hours (see parseAt),
	// running on in real time from when the service starts; empty: now.
	At string
	// MetricsAddr serves /metrics on its own listener, off the public one.
	// Empty: /metrics is on the service's address without Redis (a laptop,
	// make run) and nowhere in production.
	MetricsAddr string
	// RingSecond is how long a second of the handoffs' and messages' timers
	// lasts (ring times, hold words, the goodbye after a message); 0: a
	// second (simulate and tests play a call faster than it happens).
	RingSecond time.Duration
}

// PublicMetrics reports whether /metrics is on the service's own address:
// only where there is no metrics listener and no production (Redis).
func (s Config) PublicMetrics() bool { return s.MetricsAddr == "" && s.RedisURL == "" }

// LoadConfig reads the routing config named by file, or the embedded example.
func LoadConfig(file string) (*flow.Config, error) {
	cfg, _, err := readConfig(file)
	return cfg, err
}

// readConfig is LoadConfig that also returns the hash of the file's content.
func readConfig(file string) (*flow.Config, [sha256.Size]byte, error) {
	if file == "" {
		return flow.ExampleConfig(), [sha256.Size]byte{}, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, [sha256.Size]byte{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := flow.ParseConfig(bytes.NewReader(b))
	if err != nil {
		return nil, [sha256.Size]byte{}, fmt.Errorf("config %s:\n%w", file, err)
	}
	return cfg, sha256.Sum256(b), nil
}
