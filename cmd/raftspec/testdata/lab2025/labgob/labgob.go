// Package labgob stands in for the lab's gob wrapper: encoding/gob with
// the same names. raftspec check leaves it as it is.
package labgob

import (
	"encoding/gob"
	"io"
)

type LabEncoder struct{ gob *gob.Encoder }

func NewEncoder(w io.Writer) *LabEncoder { return &LabEncoder{gob.NewEncoder(w)} }

func (e *LabEncoder) Encode(v interface{}) error { return e.gob.Encode(v) }

type LabDecoder struct{ gob *gob.Decoder }

func NewDecoder(r io.Reader) *LabDecoder { return &LabDecoder{gob.NewDecoder(r)} }

func (d *LabDecoder) Decode(v interface{}) error { return d.gob.Decode(v) }

func Register(value interface{}) { gob.Register(value) }
