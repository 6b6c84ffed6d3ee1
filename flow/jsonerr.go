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
// problem is: the line and column of a syntax or type error, and the path of
// an unknown field ("routing.departments.sales.numbr").
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
	case errors.As(err, &typ):
		return fmt.Errorf("%s: %s: want %s, got a JSON %s", position(b, typ.Offset-1), typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("%s: the JSON ends too soon (a missing closing brace or bracket?)", position(b, int64(len(b))))
	}
	if path, at, ok := unknownField(b, reflect.TypeOf(v)); ok {
		return fmt.Errorf("%s: unknown field %q", position(b, at), path)
	}
	return err
}

// position is the line and column of the byte at offset.
func position(b []byte, offset int64) string {
	offset = min(max(offset, 0), int64(len(b)))
	before := b[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// unknownField finds the first object key in b that t has no field for, with
// its path and offset.
func unknownField(b []byte, t reflect.Type) (string, int64, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var walk func(t reflect.Type, path string) (string, int64, bool)
	walk = func(t reflect.Type, path string) (string, int64, bool) {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		tok, err := dec.Token()
		if err != nil {
			return "", 0, false
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				at := dec.InputOffset()
				key, err := dec.Token()
				if err != nil {
					return "", 0, false
				}
				name := key.(string)
				var elem reflect.Type
				switch {
				case t != nil && t.Kind() == reflect.Map:
					elem = t.Elem()
				case t != nil && t.Kind() == reflect.Struct:
					f, ok := jsonField(t, name)
					if !ok {
						return strings.TrimPrefix(path+"."+name, "."), at, true
					}
					elem = f
				}
				if p, o, ok := walk(elem, path+"."+name); ok {
					return p, o, ok
				}
			}
			_, _ = dec.Token() // '}'
		case json.Delim('['):
			var elem reflect.Type
			if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
				elem = t.Elem()
			}
			for i := 0; dec.More(); i++ {
				if p, o, ok := walk(elem, fmt.Sprintf("%s[%d]", path, i)); ok {
					return p, o, ok
				}
			}
			_, _ = dec.Token() // ']'
		}
		return "", 0, false
	}
	return walk(t, "")
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
