package detector

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"reflect"
	"unsafe"
)

// A learned Model is saved as bytes so that a start loads it instead of
// learning weeks of history again (runner: savemodels.go). The bytes are the
// model's fields other than its parameters, copied as they lie in memory,
// after a fingerprint of the model's layout: a build whose Model differs
// (fields added, renamed, resized) does not recognise older bytes, and the
// runner learns from history instead. Only pointer-free fields can be
// copied; a Model that gains a pointer, slice, map or string is not saved
// at all (modelCodec.ok) until this is taught to encode it.

// modelCodec is what encoding a Model needs, computed once.
type modelCodec struct {
	ok          bool
	fingerprint uint64
	fields      []reflect.StructField // every field but p
	size        int
}

var codec = newModelCodec()

func newModelCodec() modelCodec {
	t := reflect.TypeFor[Model]()
	c := modelCodec{ok: true}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d;", t.Size())
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Name == "p" {
			continue
		}
		if !pointerFree(f.Type) {
			c.ok = false
		}
		fmt.Fprintf(h, "%s:%s@%d+%d;", f.Name, f.Type.String(), f.Offset, f.Type.Size())
		c.fields = append(c.fields, f)
		c.size += int(f.Type.Size())
	}
	layout(h, t)
	c.fingerprint = h.Sum64()
	return c
}

// layout writes the layout of every struct type t holds, so that a change
// inside a nested struct changes the fingerprint too.
func layout(w interface{ Write([]byte) (int, error) }, t reflect.Type) {
	switch t.Kind() {
	case reflect.Array:
		layout(w, t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			fmt.Fprintf(w, "{%s.%s:%s@%d}", t.Name(), f.Name, f.Type.String(), f.Offset)
			layout(w, f.Type)
		}
	}
}

// pointerFree reports whether values of t hold no pointers at all.
func pointerFree(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return pointerFree(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !pointerFree(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

// MarshalState is the model's learned state as bytes, or nil when this
// build cannot save models (see modelCodec).
func (m *Model) MarshalState() []byte {
	if !codec.ok {
		return nil
	}
	out := binary.LittleEndian.AppendUint64(make([]byte, 0, 8+codec.size), codec.fingerprint)
	base := unsafe.Pointer(m)
	for _, f := range codec.fields {
		out = append(out, unsafe.Slice((*byte)(unsafe.Add(base, f.Offset)), f.Type.Size())...)
	}
	return out
}

// UnmarshalState restores what MarshalState saved, keeping the model's
// parameters; it reports false (and changes nothing) for bytes of another
// layout.
func (m *Model) UnmarshalState(b []byte) bool {
	if !validState(b) {
		return false
	}
	b = b[8:]
	base := unsafe.Pointer(m)
	for _, f := range codec.fields {
		n := int(f.Type.Size())
		copy(unsafe.Slice((*byte)(unsafe.Add(base, f.Offset)), n), b[:n])
		b = b[n:]
	}
	return true
}

// validState reports whether b is a model state this build can restore.
func validState(b []byte) bool {
	return codec.ok && len(b) == 8+codec.size && binary.LittleEndian.Uint64(b) == codec.fingerprint
}
