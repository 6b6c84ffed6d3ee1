package flow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// decodeStrict decodes b into v refusing unknown fields, and says where a
// problem is: the line and column of a syntax or type error, and every
// unknown field at once, each with its path ("routing.departments.sales.numbr"),
// where it is and the nearest field that exists.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return fmt.Errorf("%s: more after the config's closing brace", position(b, dec.InputOffset()))
		}
		return nil
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("%s: %w", position(b, syntax.Offset-1), err) // Offset is just past the bad byte
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("%s: the JSON ends too soon (a missing closing brace or bracket?)", position(b, int64(len(b))))
	}
	var errs []error
	if errors.As(err, &typ) {
		errs = append(errs, fmt.Errorf("%s: %s: want %s, got a JSON %s", position(b, typ.Offset-1), typ.Field, typ.Type, typ.Value))
	}
	for _, u := range unknownFields(b, reflect.TypeOf(v)) {
		msg := fmt.Sprintf("%s: unknown field %q", position(b, u.at), u.path)
		if u.nearest != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", u.nearest)
		}
		errs = append(errs, errors.New(msg))
	}
	if len(errs) == 0 {
		return err
	}
	return errors.Join(errs...)
}

// position is the line and column of the byte at offset.
func position(b []byte, offset int64) string {
	offset = min(max(offset, 0), int64(len(b)))
	before := b[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// unknown is an object key that its struct has no field for.
type unknown struct {
	path    string
	at      int64  // the offset of the key's opening quote
	nearest string // the struct's field most like it, "" when none is close
}

// unknownFields finds every object key in b that t has no field for.
func unknownFields(b []byte, t reflect.Type) []unknown {
	var found []unknown
	dec := json.NewDecoder(bytes.NewReader(b))
	var walk func(t reflect.Type, path string) bool
	walk = func(t reflect.Type, path string) bool {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				// InputOffset is just past the previous token: the key
				// starts after the whitespace and comma that follow it.
				at := dec.InputOffset()
				for at < int64(len(b)) && strings.IndexByte(" \t\r\n,", b[at]) >= 0 {
					at++
				}
				key, err := dec.Token()
				if err != nil {
					return false
				}
				name := key.(string)
				var elem reflect.Type
				switch {
				case t != nil && t.Kind() == reflect.Map:
					elem = t.Elem()
				case t != nil && t.Kind() == reflect.Struct:
					f, ok := jsonField(t, name)
					if !ok {
						found = append(found, unknown{strings.TrimPrefix(path+"."+name, "."), at, nearestField(t, name)})
					}
					elem = f // nil for an unknown key: its value is only read past
				}
				if !walk(elem, path+"."+name) {
					return false
				}
			}
			_, _ = dec.Token() // '}'
		case json.Delim('['):
			var elem reflect.Type
			if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
				elem = t.Elem()
			}
			for i := 0; dec.More(); i++ {
				if !walk(elem, fmt.Sprintf("%s[%d]", path, i)) {
					return false
				}
			}
			_, _ = dec.Token() // ']'
		}
		return true
	}
	walk(t, "")
	return found
}

// nearestField is the JSON name of t's field closest to name in edits (local.go), when
// it is close enough to be a slip (a third of the name's letters at most).
func nearestField(t reflect.Type, name string) string {
	best, bestDist := "", len(name)/3+1
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || tag == "-" || tag == "" {
			continue
		}
		if d := editDistance(strings.ToLower(name), tag); d < bestDist {
			best, bestDist = tag, d
		}
	}
	return best
}

// jsonField returns the type of t's field that JSON key name decodes into.
func jsonField(t reflect.Type, name string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		if strings.EqualFold(tag, name) {
			return f.Type, true
		}
	}
	return nil, false
}
