// Package prompts is Switchboard's model classifier: it asks an
// OpenAI-compatible chat-completions endpoint (OpenAI, Azure OpenAI, Ollama,
// vLLM) which department a caller wants, inside the time the phone call allows.
// It owns the prompts, reads the model's drifting output back into a
// configured department, turns logprobs into a confidence, retries within the
// caller's budget and stops calling a model that is down.
package prompts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/sashabaranov/go-openai"
	"github.com/sony/gobreaker/v2"
	"github.com/switchboard/switchboard/flow"
)

// ErrModelUnavailable is wrapped by Classify's error when the circuit breaker
// is open, or half-open with its one probe already out: the model failed
// llm.breaker_failures times in a row and is not asked again until
// llm.breaker_open_ms has passed. The router answers with its local classifier.
var ErrModelUnavailable = errors.New("model unavailable")

// ErrModelBusy is wrapped by Classify's error when Options.MaxConcurrent
// model requests are already in flight. The router answers with its local
// classifier.
var ErrModelBusy = errors.New("model busy: concurrent request limit reached")

// errNoChoices is a 200 reply without an answer: a server that does not speak
// the protocol, not one that is busy, so it is not retried.
var errNoChoices = errors.New("model reply has no choices")

// Time the classifier keeps out of the caller's budget.
const (
	// reserve is left to the router after the model gives up: it still has to
	// save the call and answer VoIPBin inside the same deadline.
	reserve = 50 * time.Millisecond
	// minAttempt is the least time before the deadline worth starting a model
	// call with; less cannot return an answer, only spend tokens.
	minAttempt = 100 * time.Millisecond
	// topLogProbs is the most alternatives the OpenAI API returns per token.
	topLogProbs = 5
	// azureAPIVersion is the first GA Azure OpenAI API version with logprobs;
	// go-openai's default predates them.
	azureAPIVersion = "2024-10-21"
)

// Options are the classifier's connection settings; the rest is in flow.Config.
type Options struct {
	// APIKey authenticates with the server; local servers (Ollama, vLLM) accept any.
	// BaseURL is the API root: empty for OpenAI, "http://localhost:11434/v1"
	// for Ollama, vLLM's "/v1", or an Azure OpenAI resource
	// ("https://NAME.openai.azure.com", where Model is the deployment).
	// Model empty means cfg.Routing.LLM.Model.
	APIKey, BaseURL, Model string
	// Prompt is template text overriding the system prompt (llm.system_prompt
	// and the embedded one), for evaluating a prompt before it is configured.
	Prompt string
	// HTTPClient sends the requests; nil is a client on NewTransport(MaxConcurrent).
	// Deadlines come from the context, so it needs no Timeout of its own.
	HTTPClient *http.Client
	// MaxConcurrent bounds the model requests in flight at once; 0 means
	// DefaultMaxConcurrent. A classification beyond it is refused at once with
	// ErrModelBusy and counted (Overflows): the router answers it with its
	// local classifier rather than queue a caller behind the model.
	MaxConcurrent int
	// Log receives one line per call; nil discards them.
	Log *slog.Logger
	// Observe, when set, sees every Classify call that asked the model or
	// failed, for metrics. It must be quick and safe for concurrent use.
	Observe func(Observation)
}

// Observation is one Classify call: how long it took, the tokens it cost and
// its error, if any (see ErrorKind).
type Observation struct {
	Took   time.Duration
	Tokens int
	Err    error
}

// Classifier is a flow.Classifier backed by a chat-completions model. It is
// safe for concurrent use; one per process shares the circuit breaker.
type Classifier struct {
	client  *openai.Client
	model   string
	llm     flow.LLM
	system  string // rendered once: the routing table does not change under a running classifier
	labels  labels
	breaker *gobreaker.CircuitBreaker[openai.ChatCompletionResponse]
	log     *slog.Logger
	observe func(Observation)
	// slots holds one token per model request in flight (Options.MaxConcurrent).
	slots     chan struct{}
	overflows atomic.Uint64
}

var (
	_ flow.Classifier = (*Classifier)(nil)
	_ flow.Languages  = (*Classifier)(nil)
)

// ForLanguage returns the classifier for callers speaking lang: the same
// model, settings and circuit breaker, with the caller's language named in the
// user message, so that the model reads Spanish words as Spanish and still
// answers with a configured department's name.
func (c *Classifier) ForLanguage(lang string) flow.Classifier {
	return inLanguage{c: c, language: languageName(lang)}
}

// inLanguage is a Classifier for callers of one language (see ForLanguage).
type inLanguage struct {
	c        *Classifier
	language string
}

func (l inLanguage) Classify(ctx context.Context, turns []string) (flow.Verdict, error) {
	return l.c.classifyIn(ctx, l.language, turns)
}

// NewClassifier builds a classifier for cfg's departments and llm settings. It
// fails when the system prompt (opt.Prompt, llm.system_prompt or the embedded
// template, first non-empty wins) does not parse or execute.
func NewClassifier(cfg *flow.Config, opt Options) (*Classifier, error) {
	if cfg == nil {
		return nil, errors.New("prompts: no config")
	}
	system, err := RenderSystem(cfg, opt.Prompt)
	if err != nil {
		return nil, err
	}
	llm := cfg.Routing.LLM
	// A config built in code skips ParseConfig's defaults; an unbounded answer
	// would be slow and costly, so keep it to a label's few tokens.
	llm.MaxTokens = cmp.Or(llm.MaxTokens, 5)
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opt.MaxConcurrent = cmp.Or(max(opt.MaxConcurrent, 0), DefaultMaxConcurrent)
	c := &Classifier{
		slots:   make(chan struct{}, opt.MaxConcurrent),
		client:  openai.NewClientWithConfig(clientConfig(opt)),
		model:   cmp.Or(opt.Model, cfg.Routing.LLM.Model),
		llm:     llm,
		system:  system,
		labels:  newLabels(&cfg.Routing),
		log:     log,
		observe: opt.Observe,
	}
	c.breaker = gobreaker.NewCircuitBreaker[openai.ChatCompletionResponse](gobreaker.Settings{
		Name:        "model",
		MaxRequests: 1, // one probe when half-open
		Timeout:     time.Duration(max(c.llm.BreakerOpenMS, 1)) * time.Millisecond,
		ReadyToTrip: func(n gobreaker.Counts) bool {
			return n.ConsecutiveFailures >= uint32(max(c.llm.BreakerFailures, 1))
		},
		// A caller hanging up cancels the request; that says nothing about the
		// model. Its own deadline running out does, and counts as a failure.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			log.Warn("model circuit breaker", "from", from.String(), "to", to.String())
		},
	})
	return c, nil
}

func clientConfig(opt Options) openai.ClientConfig {
	cc := openai.DefaultConfig(opt.APIKey)
	if opt.BaseURL != "" {
		cc.BaseURL = strings.TrimRight(opt.BaseURL, "/")
		// Azure OpenAI speaks the same protocol behind other paths and headers.
		if u, err := url.Parse(opt.BaseURL); err == nil && strings.HasSuffix(u.Hostname(), ".openai.azure.com") {
			cc = openai.DefaultAzureConfig(opt.APIKey, cc.BaseURL)
			cc.APIVersion = azureAPIVersion
		}
	}
	client := opt.HTTPClient
	if client == nil {
		client = &http.Client{Transport: NewTransport(opt.MaxConcurrent)}
	}
	cc.HTTPClient = client
	return cc
}

// Available reports whether Classify would ask the model now: false while
// the circuit breaker is open, when Classify fails at once. A router can use it
// to say "one moment" before a call that may take a second, and skip it when
// the answer will come from its local classifier straight away.
func (c *Classifier) Available() bool {
	return c.breaker.State() != gobreaker.StateOpen
}

// BreakerState is the circuit breaker's state: closed, half-open or open.
func (c *Classifier) BreakerState() string {
	return c.breaker.State().String()
}

// ErrorKind sorts a Classify error for metrics and alerts: breaker_open,
// busy (the concurrency bound), timeout, rate_limited, server_error, refused (another 4xx), bad_reply or
// network.
func ErrorKind(err error) string {
	status := httpStatus(err)
	switch {
	case errors.Is(err, ErrModelUnavailable):
		return "breaker_open"
	case errors.Is(err, ErrModelBusy):
		return "busy"
	case status == http.StatusTooManyRequests:
		return "rate_limited"
	case status >= 500:
		return "server_error"
	case status >= 400:
		return "refused"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, errNoChoices):
		return "bad_reply"
	}
	return "network"
}

// Overflows returns how many classifications were refused with ErrModelBusy
// since the classifier was built.
func (c *Classifier) Overflows() uint64 { return c.overflows.Load() }

// Classify asks the model for the department of a caller's turns. An answer
// that is no configured department is an unsure Verdict, not an error. Errors
// mean no answer: ctx's deadline (or, without one, llm.budget_ms) left no time,
// every attempt failed, the request was refused (a 4xx), or the breaker is open
// (ErrModelUnavailable).
func (c *Classifier) Classify(ctx context.Context, turns []string) (flow.Verdict, error) {
	return c.classifyIn(ctx, "", turns)
}

// classifyIn is Classify for callers of a named language ("" for the config's).
func (c *Classifier) classifyIn(ctx context.Context, language string, turns []string) (flow.Verdict, error) {
	start := time.Now()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(cmp.Or(c.llm.BudgetMS, 2500))*time.Millisecond)
		defer cancel()
	}
	v, attempts, answer, err := c.classify(ctx, language, turns)
	if c.observe != nil && (attempts > 0 || err != nil) {
		c.observe(Observation{Took: time.Since(start), Tokens: v.Tokens, Err: err})
	}
	level := slog.LevelDebug // the call's summary line carries the route, confidence and model time
	if err != nil {
		level = slog.LevelWarn
	}
	if c.log.Enabled(ctx, level) {
		attrs := []slog.Attr{
			// "answer" is the key the service's logger redacts unless it is one word.
			slog.String("model", c.model), slog.String("dept", v.Department), slog.String("answer", answer),
			slog.Float64("confidence", v.Confidence), slog.Int("attempts", attempts), slog.Int("tokens", v.Tokens),
			slog.Int64("ms", time.Since(start).Milliseconds()),
		}
		if err != nil {
			c.log.LogAttrs(ctx, level, "model classify failed", append(attrs, slog.Any("err", err))...)
		} else {
			c.log.LogAttrs(ctx, level, "model classify", attrs...)
		}
	}
	if err != nil {
		return flow.Verdict{}, fmt.Errorf("model classify: %w", err)
	}
	return v, nil
}

func (c *Classifier) classify(ctx context.Context, language string, turns []string) (v flow.Verdict, attempts int, answer string, err error) {
	user, n := renderUser(language, turns)
	if n == 0 {
		return flow.Verdict{Confidence: 1}, 0, "", nil // no words: nothing to ask, surely unknown
	}
	if st := c.breaker.State(); st == gobreaker.StateOpen {
		return v, 0, "", fmt.Errorf("%w: circuit breaker %s", ErrModelUnavailable, st)
	}
	// One slot for the whole classification, retries included: a caller
	// holds at most one model connection at a time.
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	default:
		c.overflows.Add(1)
		return v, 0, "", fmt.Errorf("%w (%d)", ErrModelBusy, cap(c.slots))
	}
	deadline, _ := ctx.Deadline()
	left := time.Until(deadline)
	if left < minAttempt {
		return v, 0, "", noTime(left)
	}
	req := openai.ChatCompletionRequest{
		Model: c.model,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: c.system},
			{Role: openai.ChatMessageRoleUser, Content: user},
		},
		Temperature: temperature(c.llm.Temperature),
		//lint:ignore SA1019 max_tokens is what Azure, Ollama and vLLM understand; max_completion_tokens is OpenAI's alone.
		MaxTokens:   c.llm.MaxTokens,
		LogProbs:    true,
		TopLogProbs: topLogProbs,
	}
	resp, err := backoff.Retry(ctx, func() (openai.ChatCompletionResponse, error) {
		attempts++
		return c.attempt(ctx, req)
	},
		backoff.WithBackOff(&backoff.ExponentialBackOff{
			InitialInterval:     100 * time.Millisecond,
			RandomizationFactor: 0.5, // jitter, so replicas do not retry in step
			Multiplier:          2,
			MaxInterval:         time.Second,
		}),
		backoff.WithMaxTries(uint(max(c.llm.Retries, 0))+1),
		// No retry, however short its backoff or long a 429's Retry-After, may
		// start with less than minAttempt left: give up at once instead.
		backoff.WithMaxElapsedTime(left-minAttempt+time.Nanosecond),
	)
	if err != nil {
		return v, attempts, "", err
	}
	choice := resp.Choices[0]
	answer = choice.Message.Content
	v = flow.Verdict{Department: c.labels.department(answer), Tokens: resp.Usage.TotalTokens}
	c.labels.confidence(&v, choice.LogProbs)
	return v, attempts, clipAnswer(answer), nil
}

// attempt makes one model call, through the breaker, and tells Retry whether
// another is worth making.
func (c *Classifier) attempt(ctx context.Context, req openai.ChatCompletionRequest) (openai.ChatCompletionResponse, error) {
	deadline, _ := ctx.Deadline()
	if left := time.Until(deadline); left < minAttempt {
		return openai.ChatCompletionResponse{}, backoff.Permanent(noTime(left))
	}
	// Each attempt is bounded by llm.timeout_ms and ends early enough for the
	// router to still answer with its local classifier.
	d := time.Until(deadline) - reserve
	if c.llm.TimeoutMS > 0 {
		d = min(d, time.Duration(c.llm.TimeoutMS)*time.Millisecond)
	}
	actx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	resp, err := c.breaker.Execute(func() (openai.ChatCompletionResponse, error) {
		resp, err := c.client.CreateChatCompletion(actx, req)
		if err == nil && len(resp.Choices) == 0 {
			err = errNoChoices
		}
		return resp, err
	})
	return resp, retryable(ctx, resp.Header(), err)
}

// retryable marks err for backoff.Retry: permanent, wait for the server's
// Retry-After, or retry after the usual backoff.
func retryable(ctx context.Context, h http.Header, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return backoff.Permanent(fmt.Errorf("%w: circuit breaker: %w", ErrModelUnavailable, err))
	}
	if ctx.Err() != nil {
		return backoff.Permanent(err) // the caller's budget is spent or the caller hung up
	}
	status := httpStatus(err)
	switch {
	case status == http.StatusTooManyRequests:
		if d, ok := retryAfter(h, time.Now()); ok {
			return fmt.Errorf("%w (%w)", err, &backoff.RetryAfterError{Duration: d})
		}
		return err
	case status == http.StatusRequestTimeout, status >= 500:
		return err
	case status >= 400, errors.Is(err, errNoChoices):
		return backoff.Permanent(err) // a request refused once is refused again
	}
	return err // network trouble, or this attempt's own timeout
}

// httpStatus is the HTTP status behind a go-openai error, or 0.
func httpStatus(err error) int {
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	switch {
	case errors.As(err, &apiErr):
		return apiErr.HTTPStatusCode
	case errors.As(err, &reqErr):
		return reqErr.HTTPStatusCode
	}
	return 0
}

// retryAfter reads how long a rate-limited server wants us to wait: OpenAI's
// retry-after-ms, else Retry-After in seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if ms, err := strconv.ParseFloat(h.Get("Retry-After-Ms"), 64); err == nil && ms >= 0 {
		return time.Duration(ms * float64(time.Millisecond)), true
	}
	v := h.Get("Retry-After")
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func noTime(left time.Duration) error {
	return fmt.Errorf("%w: %s left, too little for a model call", context.DeadlineExceeded, left.Round(time.Millisecond))
}

// temperature works around go-openai dropping a zero temperature (omitempty),
// which would leave the API's default of 1: the smallest float32 above zero
// is zero to every server, and is sent.
func temperature(t float32) float32 {
	if t == 0 {
		return math.SmallestNonzeroFloat32
	}
	return t
}

// clipAnswer keeps what a drifting model said short enough for one log line.
func clipAnswer(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		s = strings.ToValidUTF8(s[:60], "") + "..."
	}
	return s
}
