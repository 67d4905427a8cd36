package humanize

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{1499 * time.Millisecond, "1s"},
		{1500 * time.Millisecond, "2s"},
		{59 * time.Second, "59s"},
		{60 * time.Second, "1m00s"},
		{90 * time.Second, "1m30s"},
		{time.Hour - time.Second, "59m59s"},
		{time.Hour + 3*time.Minute + 5*time.Second, "1h03m05s"},
		{100 * time.Hour, "100h00m00s"},
		{-5 * time.Second, "0s"},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			if got := Duration(tc.d); got != tc.want {
				t.Errorf("Duration(%v) = %q; want %q", tc.d, got, tc.want)
			}
		})
	}
}
