// Package clocale keeps Fyne from logging "Error parsing user locale C" on
// systems whose locale is C.UTF-8 or POSIX.UTF-8 (Debian containers, CI,
// cron), where every CLI command would otherwise start with three lines of
// noise on stderr.
//
// Fyne's lang package reads the locale from LC_ALL, LC_MESSAGES or LANG in
// its init; it treats "C" and "POSIX" as English but passes "C.UTF-8" on, as
// the language tag "C", which does not parse. For such a locale gettext
// ignores LANGUAGE, so setting LANGUAGE=en changes nothing for any C library
// and hands Fyne a tag it understands.
//
// Import it for its side effect, from the main package only. It imports
// nothing but syscall, so Go (1.21 and later: packages initialise in import
// path order, each as soon as its imports are done) runs its init before os
// is initialised, and hence before any package that reads the environment
// through os.
package clocale

import "syscall"

func init() {
	if _, set := syscall.Getenv("LANGUAGE"); set {
		return
	}
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v, _ := syscall.Getenv(name)
		if v == "" {
			continue
		}
		if isPOSIXWithCharset(v) {
			syscall.Setenv("LANGUAGE", "en")
		}
		return
	}
}

// isPOSIXWithCharset reports whether locale is the C or POSIX locale with a
// charset or modifier ("C.UTF-8", "POSIX.utf8", "C@euro").
func isPOSIXWithCharset(locale string) bool {
	for _, base := range []string{"C", "POSIX"} {
		if len(locale) > len(base) && locale[:len(base)] == base && (locale[len(base)] == '.' || locale[len(base)] == '@') {
			return true
		}
	}
	return false
}
