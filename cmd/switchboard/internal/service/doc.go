// Package service is Switchboard's HTTP service: New builds it from a Config
// (the store, the routing config, the model, VoIPBin's REST API), Handler
// serves VoIPBin's fetches and events and the call-handler webhook,
// MetricsHandler serves /metrics, Start runs its background work (config
// reloads, messages, callbacks), Reload, Settle and Close end it. Package
// main fills the Config from flags and environment; nothing here reads them.
//
// Where things are:
//
//   - service.go: the Service, New, the routing config in use (swapped whole
//     by reload.go), the observers that see every turn (AddObserver).
//   - routes.go: every route and middleware; request.go reads bodies and
//     writes answers; input.go bounds what a request may carry.
//   - voipbin.go: the fetch and event handlers (VoIPBin's wire itself, the
//     fetch URL included, is package voipbin's); webhook.go the seed
//     call-handler webhook.
//   - handoff.go: conference handoffs; dialler.go callbacks; messages.go the
//     messages callers leave; transcribes.go the transcriptions of calls
//     that left us; metrics.go the metrics and the timed store.
//   - config.go: Config and LoadConfig; at.go the --at moment.
//
// A new route is a handler here and a line in routes.go; a new routing mode
// is package flow's (flow/mode.go), which the handlers need not know.
package service
