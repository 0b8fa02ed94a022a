package stomp

import (
	"bytes"
	"strconv"
)

// Limits bound what a Decoder accepts; zero fields take defaults.
type Limits struct {
	MaxFrameSize   int // whole frame incl. headers and body; default 64 KiB
	MaxHeaders     int // default 64
	MaxHeaderBytes int // one header line (and the command line); default 8 KiB
}

// Default limits.
const (
	DefaultMaxFrameSize   = 64 << 10
	DefaultMaxHeaders     = 64
	DefaultMaxHeaderBytes = 8 << 10
)

// maxLimit keeps index arithmetic far from overflow.
const maxLimit = 1 << 40

func (l Limits) withDefaults() Limits {
	fix := func(v, def int) int {
		if v <= 0 {
			return def
		}
		return min(v, maxLimit)
	}
	l.MaxFrameSize = fix(l.MaxFrameSize, DefaultMaxFrameSize)
	l.MaxHeaders = fix(l.MaxHeaders, DefaultMaxHeaders)
	l.MaxHeaderBytes = fix(l.MaxHeaderBytes, DefaultMaxHeaderBytes)
	return l
}

// Buffers larger than these are released once empty, so that idle connections stay small.
const (
	keepBufCap     = 4 << 10
	keepScratchCap = 1 << 10
)

type stage uint8

const (
	stIdle    stage = iota // before a frame: heart-beat EOLs are skipped
	stCommand              // reading the command line
	stHeaders              // reading header lines
	stBody                 // reading the body
)

// hdrRef locates one decoded header in the decoder's scratch text.
type hdrRef struct {
	key    string // interned key; "" when the key is scratch[k0:k1]
	k0, k1 int
	v0, v1 int
}

// frameBlock lets a frame and its first headers share one allocation.
type frameBlock struct {
	f Frame
	h [8]Header
}

// Decoder is an incremental parser. One WebSocket message may hold several frames, and one
// frame may span several messages: Write appends bytes, Next returns frames as they complete.
// The state of a partly received frame is kept, so every byte is examined once however the
// input is split. A Decoder is not safe for concurrent use.
type Decoder struct {
	lim Limits
	ver int8

	buf []byte // received bytes; buf[off:] is not yet consumed
	off int

	// State of the frame being parsed; positions are relative to off.
	st      stage
	p       int // start of the next line, or of the body
	scan    int // how far the search for the next LF or NUL has gone
	cmd     string
	escape  bool
	clen    int // first content-length, or -1
	refs    []hdrRef
	scratch []byte // unescaped header text of the current frame

	ready []*Frame // frames completed inside Write, returned first by Next
	err   error    // sticky: once set the decoder is broken
}

// NewDecoder returns a decoder with the given limits, parsing by the STOMP 1.2 rules until
// SetVersion says otherwise.
func NewDecoder(l Limits) *Decoder {
	return &Decoder{lim: l.withDefaults(), ver: 12, clen: -1}
}

// SetVersion sets the protocol version, "1.0", "1.1" or "1.2" (anything else means 1.2), which
// decides header escaping and whether a CR before LF ends a line. Call it between frames,
// typically once the CONNECT frame has been answered.
func (d *Decoder) SetVersion(v string) { d.ver = parseVersion(v) }

// Write appends p to the buffered input; p may be reused once Write returns. It returns an
// error wrapping ErrFrameTooLarge when the buffered bytes of an unfinished frame would exceed
// MaxFrameSize. To know that, when more than MaxFrameSize bytes are buffered Write parses
// frames right away until less is left (Next returns them first), and so may return any
// decoding error; Next then returns the frames that came before the bad bytes, then the same
// error. Callers should call Next until it returns (nil, nil) after each Write, and bound the
// size of one write (a WebSocket message) to about MaxFrameSize.
func (d *Decoder) Write(p []byte) error {
	if d.err != nil {
		return d.err
	}
	if len(p) == 0 {
		return nil
	}
	if d.off > 0 && len(d.buf)+len(p) > cap(d.buf) {
		n := copy(d.buf, d.buf[d.off:])
		d.buf = d.buf[:n]
		d.off = 0
	}
	d.buf = append(d.buf, p...)
	// More than a frame's worth is buffered: parse complete frames until what is left could
	// still be one frame, so that an oversized frame is refused here.
	for len(d.buf)-d.off > d.lim.MaxFrameSize {
		f, err := d.parse()
		if err != nil {
			d.fail(err)
			return err
		}
		if f == nil {
			break
		}
		d.ready = append(d.ready, f)
	}
	return nil
}

// Next returns the next complete frame, or (nil, nil) when more bytes are needed.
// Heart-beats (bare EOLs between frames) are consumed silently. Once Next returns an error the
// decoder is broken and returns that error again (the connection must be closed with an ERROR
// frame). The returned frame shares no memory with the decoder.
func (d *Decoder) Next() (*Frame, error) {
	if len(d.ready) > 0 {
		f := d.ready[0]
		d.ready[0] = nil
		d.ready = d.ready[1:]
		if len(d.ready) == 0 {
			d.ready = nil
		}
		return f, nil
	}
	if d.err != nil {
		return nil, d.err
	}
	f, err := d.parse()
	if err != nil {
		d.fail(err)
		return nil, err
	}
	return f, nil
}

// Buffered returns the number of received bytes not yet returned as frames.
func (d *Decoder) Buffered() int { return len(d.buf) - d.off }

func (d *Decoder) fail(err error) {
	d.err = err
	d.buf, d.off, d.refs, d.scratch = nil, 0, nil, nil
}

// parse advances the state machine over the buffered input and returns the next frame, nil
// when more input is needed, or an error. Whether it waits or fails depends only on the bytes
// it has seen, never on how they were split between writes.
func (d *Decoder) parse() (*Frame, error) {
	mfs := d.lim.MaxFrameSize
	for {
		a := d.buf[d.off:]
		switch d.st {
		case stIdle:
			i := 0
			for i < len(a) {
				if a[i] == '\n' {
					i++
				} else if a[i] == '\r' && i+1 < len(a) && a[i+1] == '\n' {
					i += 2
				} else {
					break
				}
			}
			d.off += i
			a = a[i:]
			if len(a) == 0 || len(a) == 1 && a[0] == '\r' {
				d.compact()
				return nil, nil
			}
			d.st, d.p, d.scan, d.clen = stCommand, 0, 0, -1

		case stCommand, stHeaders:
			ls := d.p
			lineEnd := ls + d.lim.MaxHeaderBytes + 1 // the LF must come before this
			end := min(len(a), lineEnd, mfs)
			i := bytes.IndexByte(a[d.scan:end], '\n')
			if i < 0 {
				d.scan = end
				switch {
				case lineEnd <= len(a) && lineEnd <= mfs:
					return nil, newError(ErrHeaderTooLong, "a line is longer than "+strconv.Itoa(d.lim.MaxHeaderBytes)+" bytes")
				case mfs <= len(a):
					return nil, d.tooLarge()
				}
				return nil, nil
			}
			lf := d.scan + i
			d.p, d.scan = lf+1, lf+1
			line := a[ls:lf]
			if d.ver == 12 && len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
			if d.st == stCommand {
				d.cmd = internCommand(line)
				if d.cmd == "" {
					return nil, newError(ErrBadCommand, quote(line))
				}
				d.escape = escapesHeaders(d.cmd, d.ver)
				d.st = stHeaders
				continue
			}
			if len(line) == 0 {
				if d.clen >= 0 && d.p+d.clen+1 > mfs {
					return nil, d.tooLarge()
				}
				d.st = stBody
				continue
			}
			if err := d.header(line); err != nil {
				return nil, err
			}

		case stBody:
			bs := d.p
			if d.clen >= 0 {
				end := bs + d.clen
				if len(a) <= end {
					return nil, nil
				}
				if a[end] != 0 {
					return nil, newError(ErrMalformed, "the body is not followed by a NUL octet after content-length:"+strconv.Itoa(d.clen)+" octets")
				}
				return d.finish(a[bs:end], end+1), nil
			}
			end := min(len(a), mfs)
			i := bytes.IndexByte(a[d.scan:end], 0)
			if i < 0 {
				d.scan = end
				if mfs <= len(a) {
					return nil, d.tooLarge()
				}
				return nil, nil
			}
			nul := d.scan + i
			return d.finish(a[bs:nul], nul+1), nil
		}
	}
}

func (d *Decoder) tooLarge() error {
	return newError(ErrFrameTooLarge, "a frame may not exceed "+strconv.Itoa(d.lim.MaxFrameSize)+" bytes")
}

// finish builds the frame whose body is body and which ends end bytes after off.
func (d *Decoder) finish(body []byte, end int) *Frame {
	fb := &frameBlock{}
	f := &fb.f
	f.Command = d.cmd
	if n := len(d.refs); n <= len(fb.h) {
		f.Headers = fb.h[:n]
	} else {
		f.Headers = make([]Header, n)
	}
	var s string
	if len(d.scratch) > 0 {
		s = string(d.scratch)
	}
	for i, r := range d.refs {
		k := r.key
		if k == "" {
			k = s[r.k0:r.k1]
		}
		f.Headers[i] = Header{Key: k, Value: s[r.v0:r.v1]}
	}
	if len(body) > 0 {
		f.Body = append([]byte(nil), body...)
	}

	d.off += end
	d.st, d.p, d.scan, d.clen = stIdle, 0, 0, -1
	d.refs = d.refs[:0]
	if cap(d.scratch) > keepScratchCap {
		d.scratch = nil
	} else {
		d.scratch = d.scratch[:0]
	}
	d.compact()
	return f
}

// compact empties the buffer once everything in it has been consumed.
func (d *Decoder) compact() {
	if d.off < len(d.buf) {
		return
	}
	d.off = 0
	if cap(d.buf) > keepBufCap {
		d.buf = nil
	} else {
		d.buf = d.buf[:0]
	}
}
