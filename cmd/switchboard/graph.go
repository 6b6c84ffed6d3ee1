package main

import (
	"fmt"
	"io"

	"github.com/switchboard/switchboard/flow"
)

func runGraph(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("graph", stdout, stderr)
	format := fs.String("format", "mermaid", "mermaid or dot (Graphviz)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var d string
	var err error
	switch *format {
	case "mermaid":
		d, err = flow.Diagram()
	case "dot":
		d, err = flow.DiagramDOT()
	default:
		return fmt.Errorf("graph: --format %q: want mermaid or dot", *format)
	}
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, d)
	return err
}
