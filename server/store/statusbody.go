package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/outcry/outcry/models"
)

// statusBody is a published status as stored (service_statuses.body): the
// status as JSON with its chart series packed into Chart (packSeries;
// base64 in the JSON) instead of Series. As JSON text the 97 buckets (a
// time and three floats each) were 11 KB of a status's 12 KB, and
// encoding them most of the leader's CPU in publishing (encoding/json:
// 4.9 s of the 8.8 s the publisher took in a minute after a warm start at
// 50,000 services, time.Time's MarshalJSON alone 2.4 s), besides the bytes
// pgx copied and PostgreSQL stored. A body written by an earlier build has
// Series and no Chart, and reads as before.
type statusBody struct {
	models.ServiceStatus
	Series []models.Bucket `json:",omitempty"` // hides the status's own: bodies of earlier builds
	Chart  []byte          `json:",omitempty"`
}

// bodyBuffer is where statusRows encodes a write's bodies (Store.bodies
// keeps them between writes).
type bodyBuffer struct {
	buf   bytes.Buffer
	chart []byte
	ends  []int
}

// statusRows are the rows that store changed, stamped seq, their bodies
// (statusBody as JSON) encoded one after another into one buffer of
// s.bodies and valid until release: a body of its own for each status
// (json.Marshal's copy, the chart's bytes) was 4.4 KB and 3 KB of fresh
// memory a status, 50,000 at a start, most of the publisher's CPU in
// clearing it (0.8 s of its 1.9 s in a 25 s profile at 50,000 services).
func (s *Store) statusRows(seq int64, changed []models.ServiceStatus) (rows []statusRow, release func(), err error) {
	bb, _ := s.bodies.Get().(*bodyBuffer)
	if bb == nil {
		bb = &bodyBuffer{}
	}
	release = func() { bb.buf.Reset(); s.bodies.Put(bb) }
	enc := json.NewEncoder(&bb.buf)
	bb.ends = bb.ends[:0]
	for i := range changed {
		bb.chart = packSeries(bb.chart[:0], changed[i].Series)
		b := statusBody{ServiceStatus: changed[i], Chart: bb.chart}
		b.ServiceStatus.Series = nil
		if err := enc.Encode(&b); err != nil {
			release()
			return nil, nil, err
		}
		bb.ends = append(bb.ends, bb.buf.Len())
	}
	all := bb.buf.Bytes() // taken once every body is in: the buffer may move as it grows
	rows = make([]statusRow, len(changed))
	start := 0
	for i := range changed {
		end := bb.ends[i]
		rows[i] = statusRow{ServiceID: changed[i].Service.ID, Seq: seq, Body: all[start : end-1 : end-1]} // less Encode's newline
		start = end
	}
	return rows, release, nil
}

// decodeStatus is the status a stored body holds.
func decodeStatus(data []byte, st *models.ServiceStatus) error {
	var b statusBody
	if err := json.Unmarshal(data, &b); err != nil {
		return err
	}
	*st = b.ServiceStatus
	st.Series = b.Series
	if b.Chart != nil {
		series, err := unpackSeries(b.Chart)
		if err != nil {
			return err
		}
		st.Series = series
	}
	return nil
}

// packedSeries is packSeries's format version.
const packedSeries = 1

// packSeries appends to out a chart series, packed (nil for none): the format version, the
// number of buckets, the first start in unix seconds and each next one as
// the seconds after the one before (varints), the counts (varints), then
// for each bucket a byte saying whether it has a baseline band and, if so,
// the band's expected, low and high (float64 bits, little-endian: exact).
// Starts are whole seconds (bucket boundaries) in UTC, as the runner makes
// them and as JSON gave them back.
func packSeries(out []byte, series []models.Bucket) []byte {
	if len(series) == 0 {
		return nil
	}
	out = slices.Grow(out, 16+len(series)*(6+1+24))
	out = append(out, packedSeries)
	out = binary.AppendUvarint(out, uint64(len(series)))
	prev := int64(0)
	for _, b := range series {
		s := b.Start.Unix()
		out = binary.AppendVarint(out, s-prev)
		prev = s
	}
	for _, b := range series {
		out = binary.AppendVarint(out, int64(b.Count))
	}
	for _, b := range series {
		if b.Baseline == nil {
			out = append(out, 0)
			continue
		}
		out = append(out, 1)
		out = binary.LittleEndian.AppendUint64(out, math.Float64bits(b.Baseline.Expected))
		out = binary.LittleEndian.AppendUint64(out, math.Float64bits(b.Baseline.Low))
		out = binary.LittleEndian.AppendUint64(out, math.Float64bits(b.Baseline.High))
	}
	return out
}

var errPackedSeries = errors.New("a packed chart series is corrupt")

// unpackSeries is the series packSeries packed (its bands in one
// allocation).
func unpackSeries(p []byte) ([]models.Bucket, error) {
	if len(p) < 2 || p[0] != packedSeries {
		return nil, errPackedSeries
	}
	p = p[1:]
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)) {
		return nil, errPackedSeries
	}
	p = p[k:]
	series := make([]models.Bucket, n)
	prev := int64(0)
	for i := range series {
		d, k := binary.Varint(p)
		if k <= 0 {
			return nil, errPackedSeries
		}
		prev += d
		series[i].Start = time.Unix(prev, 0).UTC()
		p = p[k:]
	}
	for i := range series {
		c, k := binary.Varint(p)
		if k <= 0 {
			return nil, errPackedSeries
		}
		series[i].Count = int(c)
		p = p[k:]
	}
	var bands []models.Band
	for i := range series {
		if len(p) < 1 {
			return nil, errPackedSeries
		}
		has := p[0]
		p = p[1:]
		if has == 0 {
			continue
		}
		if has != 1 || len(p) < 24 {
			return nil, errPackedSeries
		}
		if bands == nil {
			bands = make([]models.Band, 0, len(series)-i)
		}
		bands = append(bands, models.Band{
			Expected: math.Float64frombits(binary.LittleEndian.Uint64(p)),
			Low:      math.Float64frombits(binary.LittleEndian.Uint64(p[8:])),
			High:     math.Float64frombits(binary.LittleEndian.Uint64(p[16:])),
		})
		series[i].Baseline = &bands[len(bands)-1]
		p = p[24:]
	}
	if len(p) != 0 {
		return nil, errPackedSeries
	}
	return series, nil
}
