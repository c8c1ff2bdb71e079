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

// decode gob-decodes b, one message of a fresh encoder, into ptr.
//
// A fresh encoder starts every message with the definitions of the types
// it sends, and a fresh decoder compiles them: a third of the KV suite's
// CPU. So a decoder that has decoded a message is kept, keyed by the exact
// bytes of those definitions, and given only the value of the next
// message that starts with the same bytes: same definitions, same type
// ids, same result.
//
// The value of an interface carries its concrete type's definition inside
// it, which a primed decoder refuses as a duplicate: such a message is
// decoded afresh, and its definitions are not primed again.
func decode(b []byte, ptr any) error {
	defs, value, ok := splitTypeDefs(b)
	key := string(defs)
	if ok && !primed.unprimable(key) {
		// What ptr held, to put back if the primed decoder fails part way.
		dst := reflect.ValueOf(ptr).Elem()
		saved := reflect.New(dst.Type()).Elem()
		saved.Set(dst)
		d := primed.take(key)
		if d == nil {
			d = &primedDecoder{}
			d.dec = gob.NewDecoder(&d.buf)
			d.buf.Write(defs)
		}
		d.buf.Write(value)
		if err := d.dec.Decode(ptr); err == nil {
			if d.buf.Len() == 0 {
				primed.put(key, d)
			}
			return nil
		}
		// d is dropped; a fresh decoder says whether b is really bad.
		primed.refuse(key)
		dst.Set(saved)
	}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(ptr); err != nil {
		return fmt.Errorf("gob-decoding into %T: %v", ptr, err)
	}
	return nil
}

// primedDecoder is a gob decoder that has read some type definitions, and
// the buffer it reads from.
type primedDecoder struct {
	buf bytes.Buffer
	dec *gob.Decoder
}

// primed holds the idle primed decoders, by the type definitions they
// have read.
var primed decoderPool

type decoderPool struct {
	mu      sync.Mutex
	idle    map[string][]*primedDecoder
	refused map[string]bool // definitions whose messages a primed decoder failed on
}

func (p *decoderPool) unprimable(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused[key]
}

func (p *decoderPool) refuse(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refused == nil {
		p.refused = map[string]bool{}
	}
	p.refused[key] = true
	delete(p.idle, key)
}

func (p *decoderPool) take(key string) *primedDecoder {
	p.mu.Lock()
	defer p.mu.Unlock()
	ds := p.idle[key]
	if len(ds) == 0 {
		return nil
	}
	d := ds[len(ds)-1]
	p.idle[key] = ds[:len(ds)-1]
	return d
}

func (p *decoderPool) put(key string, d *primedDecoder) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle == nil {
		p.idle = map[string][]*primedDecoder{}
	}
	p.idle[key] = append(p.idle[key], d)
}

// splitTypeDefs splits one fresh encoder's output into its type-definition
// messages and the value message that follows them. A gob message is a
// length (a gob uint) and then a type id (a gob int), negative for a type
// definition.
func splitTypeDefs(b []byte) (defs, value []byte, ok bool) {
	for i := 0; i < len(b); {
		n, w := gobUint(b[i:])
		if w == 0 || n > uint64(len(b)-i-w) {
			return nil, nil, false
		}
		msg := b[i+w : i+w+int(n)]
		id, w2 := gobUint(msg)
		if w2 == 0 {
			return nil, nil, false
		}
		if id&1 == 0 { // a non-negative type id: the value
			return b[:i], b[i:], true
		}
		i += w + int(n)
	}
	return nil, nil, false
}

// gobUint reads a gob unsigned integer: one byte below 128, otherwise the
// negated byte count and then the bytes, big-endian. w is 0 if b is short.
func gobUint(b []byte) (x uint64, w int) {
	if len(b) == 0 {
		return 0, 0
	}
	if b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	n := int(-int8(b[0]))
	if n > 8 || len(b) < 1+n {
		return 0, 0
	}
	for _, c := range b[1 : 1+n] {
		x = x<<8 | uint64(c)
	}
	return x, 1 + n
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
