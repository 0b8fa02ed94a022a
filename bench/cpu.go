package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuWatch measures the CPU time the generator and the target use over the measured phase.
// On a machine shared with other work, operations per CPU-second say more than operations
// per second, and the cores used say whether the run was starved.
type cpuWatch struct {
	nodes     cluster
	targetPID int
	start     time.Time
	self0     float64
	target0   float64
	targetOK  bool
}

// clockTick is the unit of the CPU times in /proc/<pid>/stat (USER_HZ, 100 on Linux).
const clockTick = 100

func startCPUWatch(ctx context.Context, nodes cluster, targetPID int) *cpuWatch {
	w := &cpuWatch{nodes: nodes, targetPID: targetPID, start: time.Now(), self0: selfCPU()}
	w.target0, w.targetOK = w.targetCPU(ctx)
	return w
}

// cpuUsed is what a cpuWatch measured.
type cpuUsed struct {
	wall      float64 // seconds
	self      float64 // CPU seconds of this process
	target    float64 // CPU seconds of the target; -1 unknown
	inProcess bool
}

// finish ends the measurement.
func (w *cpuWatch) finish(ctx context.Context) cpuUsed {
	u := cpuUsed{wall: time.Since(w.start).Seconds(), self: selfCPU() - w.self0, target: -1,
		inProcess: w.nodes != nil && w.nodes.inProcess()}
	if t1, ok := w.targetCPU(ctx); ok && w.targetOK {
		u.target = t1 - w.target0
	}
	return u
}

// stop ends the measurement and reports it.
func (w *cpuWatch) stop(ctx context.Context, res *Result, ops int64, unit string) {
	w.finish(ctx).report(res, ops, unit)
}

// report adds lines with the cores each side used and ops per CPU-second.
func (u cpuUsed) report(res *Result, ops int64, unit string) {
	if u.wall <= 0 {
		return
	}
	who := "generator"
	if u.inProcess {
		who = "generator and node"
	}
	res.line("CPU, this process", u.self/u.wall, "cores", fmt.Sprintf("%s; %d CPUs here", who, res.Machine.CPUs))
	total := u.self
	switch {
	case u.inProcess:
	case u.target >= 0:
		res.line("CPU, target", u.target/u.wall, "cores", "")
		total += u.target
	default:
		total = 0 // unknown: no per-CPU-second figure
	}
	if total > 0 && ops > 0 {
		res.line(unit+" per CPU-second", float64(ops)/total, "", "generator and target together")
	}
}

// targetCPU returns the CPU seconds the target has used: the nodes' (from /proc or their
// /metrics) or the broker's (from /proc).
func (w *cpuWatch) targetCPU(ctx context.Context) (float64, bool) {
	if w.nodes == nil {
		if w.targetPID <= 0 {
			return 0, false
		}
		s, err := procCPU(w.targetPID)
		return s, err == nil
	}
	if w.nodes.inProcess() {
		return 0, true
	}
	var sum float64
	for _, n := range w.nodes {
		if n.pid > 0 {
			s, err := procCPU(n.pid)
			if err != nil {
				return 0, false
			}
			sum += s
			continue
		}
		v, err := scrapeMetrics(ctx, n.url+"/metrics", "process_cpu_seconds_total")
		if err != nil || v[0] < 0 {
			return 0, false
		}
		sum += v[0]
	}
	return sum, true
}

// selfCPU returns the CPU seconds this process has used.
func selfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// procCPU returns the CPU seconds (user and system) process pid has used.
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields after its end.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("process %d: malformed stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("process %d: malformed stat", pid)
	}
	utime, err1 := strconv.ParseFloat(f[11], 64) // field 14 of the whole line
	stime, err2 := strconv.ParseFloat(f[12], 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("process %d: malformed stat", pid)
	}
	return (utime + stime) / clockTick, nil
}
