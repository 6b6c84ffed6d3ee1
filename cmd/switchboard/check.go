package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/service"
	"github.com/switchboard/switchboard/flow"
)

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stdout, stderr)
	atFlag := fs.String("at", "", "show opening hours as of this moment, 2026-12-25T10:00 (default now)")
	var files []string
	fs.Func("config", "routing config JSON `FILE` (repeat to check several; default: the embedded example)", func(f string) error {
		files = append(files, f)
		return nil
	})
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(files) == 0 {
		files = []string{""}
	}
	var out strings.Builder
	var errs []error
	anyDialled := false
	for _, file := range files {
		cfg, err := service.LoadConfig(file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		name := file
		if name == "" {
			name = "the embedded example"
		}
		table, dialled := cfg.Routing.CallerIDs()
		anyDialled = anyDialled || dialled
		fmt.Fprintf(&out, "%s: config ok: %d departments %v\n%s", name, len(cfg.Routing.Departments), cfg.Routing.DepartmentNames(true), table)
		for _, line := range cfg.Routing.DescribeModes() {
			fmt.Fprintln(&out, "  mode "+line)
		}
		at := time.Now()
		if *atFlag != "" {
			if at, err = service.ParseAt(*atFlag, cfg); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		fmt.Fprintln(&out, "  opening hours:")
		for _, line := range cfg.Routing.DescribeHours(at) {
			fmt.Fprintln(&out, "    "+line)
		}
		for _, line := range cfg.Routing.DescribeQueues() {
			fmt.Fprintln(&out, "  "+line)
		}
		for _, line := range cfg.Routing.DescribeMessages() {
			fmt.Fprintln(&out, "  "+line)
		}
		fmt.Fprintln(&out, "  handoffs (each destination in turn, then the fallback desk's):")
		for _, line := range cfg.Routing.DescribeHandoffs() {
			fmt.Fprintln(&out, "    "+line)
		}
		fmt.Fprintln(&out, "  what callers hear, by language ((example): not in this config, taken from the example's):")
		for _, line := range cfg.Routing.DescribeTexts() {
			fmt.Fprintln(&out, "    "+line)
		}
		for _, w := range append(cfg.Routing.TextWarnings(), cfg.Routing.Warnings()...) {
			fmt.Fprintln(&out, "  WARNING "+w)
		}
	}
	if out.Len() > 0 { // VoIPBin's rule, once whatever the number of files
		out.WriteString(flow.HandoffRule)
		out.WriteString(flow.CallerIDRule)
		if anyDialled {
			out.WriteString(flow.CallerIDDialledNote)
		}
	}
	if _, err := io.WriteString(stdout, out.String()); err != nil {
		return err
	}
	return errors.Join(errs...)
}
