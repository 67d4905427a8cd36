// Package humanize formats quantities for people to read, the same way in
// the command line's progress lines and the workbench's labels.
package humanize

import (
	"fmt"
	"time"
)

// Duration formats d rounded to the second as "12s", "1m05s" or
// "2h03m05s"; a negative d reads as "0s", since it only ever stands for time
// left or spent.
func Duration(d time.Duration) string {
	s := int64(max(0, d.Round(time.Second)) / time.Second)
	switch {
	case s >= 3600:
		return fmt.Sprintf("%dh%02dm%02ds", s/3600, s/60%60, s%60)
	case s >= 60:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%ds", s)
}
