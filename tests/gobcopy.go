package tests

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"reflect"
	"sync"
)

// encode gob-encodes v, as an RPC crossing the network would be: a peer
// gets only what survives the encoding, and shares no memory with the
// sender.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, fmt.Errorf("gob-encoding %T: %v", v, err)
	}
	return buf.Bytes(), nil
}

// decode gob-decodes b into ptr.
func decode(b []byte, ptr any) error {
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(ptr); err != nil {
		return fmt.Errorf("gob-decoding into %T: %v", ptr, err)
	}
	return nil
}

// fieldCheck remembers, per type, what is wrong with it as an RPC type, so
// each type is walked once.
var fieldCheck sync.Map // reflect.Type → string ("" when fine)

// unexportedField returns a message naming the first unexported struct
// field reachable from t, or "". gob drops such fields without a word, so
// a reply whose Term is spelled "term" arrives as zero: a classic bug that
// otherwise shows up only as an election that never converges.
func unexportedField(t reflect.Type) string {
	if msg, ok := fieldCheck.Load(t); ok {
		return msg.(string)
	}
	msg := findUnexported(t, t.String(), map[reflect.Type]bool{})
	fieldCheck.Store(t, msg)
	return msg
}

func findUnexported(t reflect.Type, path string, seen map[reflect.Type]bool) string {
	if seen[t] {
		return ""
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return findUnexported(t.Elem(), path, seen)
	case reflect.Map:
		if m := findUnexported(t.Key(), path, seen); m != "" {
			return m
		}
		return findUnexported(t.Elem(), path, seen)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				return fmt.Sprintf("RPC type %s has unexported field %s (in %s): gob does not send it, so the peer always sees its zero value; capitalize it", t, f.Name, path)
			}
			if m := findUnexported(f.Type, path+"."+f.Name, seen); m != "" {
				return m
			}
		}
	}
	return ""
}

// sameCommand reports whether two applied commands are equal. Commands
// are compared with == where their type allows it, and structurally
// otherwise (a slice command must not make the checker panic).
func sameCommand(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta != tb {
		return false
	}
	if ta.Comparable() {
		return safeEqual(a, b)
	}
	return reflect.DeepEqual(a, b)
}

// safeEqual is a == b, except that comparable types can still hold
// incomparable values (an interface field holding a slice).
func safeEqual(a, b any) (eq bool) {
	defer func() {
		if recover() != nil {
			eq = reflect.DeepEqual(a, b)
		}
	}()
	return a == b
}
