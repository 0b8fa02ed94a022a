package stomp

import (
	"bytes"
	"strconv"
)

// header decodes one header line into the scratch text.
func (d *Decoder) header(line []byte) error {
	if len(d.refs) >= d.lim.MaxHeaders {
		return newError(ErrTooManyHeaders, "a frame may have at most "+strconv.Itoa(d.lim.MaxHeaders)+" headers")
	}
	if d.ver == 12 && bytes.IndexByte(line, '\r') >= 0 {
		return newError(ErrMalformed, "carriage return inside header line "+quote(line))
	}
	c := bytes.IndexByte(line, ':')
	if c < 0 {
		return newError(ErrMalformed, "header line without a colon: "+quote(line))
	}
	if c == 0 {
		return newError(ErrMalformed, "header with an empty name: "+quote(line))
	}
	var (
		r   hdrRef
		err error
	)
	k0 := len(d.scratch)
	if d.scratch, err = d.unescape(d.scratch, line[:c]); err != nil {
		return err
	}
	if r.key = internKey(d.scratch[k0:]); r.key != "" {
		d.scratch = d.scratch[:k0]
	} else {
		r.k0, r.k1 = k0, len(d.scratch)
	}
	r.v0 = len(d.scratch)
	if d.scratch, err = d.unescape(d.scratch, line[c+1:]); err != nil {
		return err
	}
	r.v1 = len(d.scratch)
	if r.key == HdrContentLength && d.clen < 0 {
		n, err := parseContentLength(d.scratch[r.v0:r.v1], d.lim.MaxFrameSize)
		if err != nil {
			return err
		}
		d.clen = n
	}
	d.refs = append(d.refs, r)
	return nil
}

// unescape appends src to dst, decoding escape sequences when the frame is escaped.
func (d *Decoder) unescape(dst, src []byte) ([]byte, error) {
	if !d.escape {
		return append(dst, src...), nil
	}
	for {
		i := bytes.IndexByte(src, '\\')
		if i < 0 {
			return append(dst, src...), nil
		}
		dst = append(dst, src[:i]...)
		if i+1 == len(src) {
			return dst, newError(ErrBadEscape, "backslash at the end of a header")
		}
		switch src[i+1] {
		case 'n':
			dst = append(dst, '\n')
		case 'c':
			dst = append(dst, ':')
		case '\\':
			dst = append(dst, '\\')
		case 'r':
			if d.ver < 12 {
				return dst, newError(ErrBadEscape, `\r is not defined before STOMP 1.2`)
			}
			dst = append(dst, '\r')
		default:
			return dst, newError(ErrBadEscape, quote(src[i:i+2]))
		}
		src = src[i+2:]
	}
}

// parseContentLength parses a decimal octet count; counts above max are ErrFrameTooLarge.
func parseContentLength(b []byte, max int) (int, error) {
	if len(b) == 0 {
		return 0, newError(ErrBadContentLength, "empty value")
	}
	n := 0
	big := false
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, newError(ErrBadContentLength, quote(b)+" is not a non-negative decimal number")
		}
		if !big {
			n = n*10 + int(c-'0')
			big = n > max
		}
	}
	if big {
		return 0, newError(ErrFrameTooLarge, "content-length "+quote(b)+" exceeds the limit of "+strconv.Itoa(max)+" bytes")
	}
	return n, nil
}
