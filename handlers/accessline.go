package handlers

import (
	"encoding/json"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// The access line, appended by hand. With the JSON log format the access
// log is written as slog's JSON handler would write it (same keys, order,
// time format and string escaping: TestAccessLineMatchesSlog and
// FuzzAccessLine compare the two byte for byte), without its per-record
// work: a caller PC (runtime.Callers), a Record, attributes boxed as
// Values, a float through encoding/json. It was ~4 % of Outcry's CPU per
// report under wrk.

var accessBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// accessLine is what one access line says.
type accessLine struct {
	time       time.Time
	level      slog.Level // info or error
	requestID  string
	method     string
	route      string
	status     int
	latencyMS  float64
	bytes      int
	suppressed int64 // 0: no suppressed_429s key
}

// appendAccessLine appends l as slog.NewJSONHandler(w, nil) writes the
// record ("http", l.level, l.time) with these attributes, newline included.
func appendAccessLine(b []byte, l *accessLine) []byte {
	b = append(b, `{"time":"`...)
	b = l.time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"`...)
	b = append(b, l.level.String()...)
	b = append(b, `","msg":"http","request_id":`...)
	b = appendSlogString(b, l.requestID)
	b = append(b, `,"method":`...)
	b = appendSlogString(b, l.method)
	b = append(b, `,"route":`...)
	b = appendSlogString(b, l.route)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(l.status), 10)
	b = append(b, `,"latency_ms":`...)
	b = appendJSONFloat(b, l.latencyMS)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(l.bytes), 10)
	if l.suppressed != 0 {
		b = append(b, `,"suppressed_429s":`...)
		b = strconv.AppendInt(b, l.suppressed, 10)
	}
	return append(b, "}\n"...)
}

// appendJSONFloat appends f as encoding/json does (slog's JSON handler
// calls json.Marshal for floats): plain decimal between 1e-6 and 1e21.
func appendJSONFloat(b []byte, f float64) []byte {
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e21) {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	j, err := json.Marshal(f)
	if err != nil { // NaN or ±Inf: slog writes the error instead
		return append(b, `"!ERROR:`+err.Error()+`"`...)
	}
	return append(b, j...)
}

// appendSlogString appends s quoted and escaped as slog's JSON handler
// does (encoding/json's rules without its HTML escaping): ", \ and control
// characters escaped, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendSlogString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
