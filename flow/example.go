package flow

import (
	"bytes"
	_ "embed"
)

//go:embed example.json
var exampleJSON []byte

// ExampleJSON is the example routing config that the service runs on when none
// is given: the seed article's template, extended.
func ExampleJSON() []byte { return bytes.Clone(exampleJSON) }

// ExampleConfig parses ExampleJSON.
func ExampleConfig() *Config {
	c, err := ParseConfig(bytes.NewReader(exampleJSON))
	if err != nil {
		panic("the embedded example config is invalid: " + err.Error())
	}
	return c
}
