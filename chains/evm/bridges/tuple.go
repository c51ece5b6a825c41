package bridges

import (
	"errors"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"
)

// structFields copies the fields of the anonymous struct abi unpacks a
// tuple into (fields named in CamelCase) into m, under the ABI's names
// (lower camel case).
func structFields(v any, m map[string]any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Struct {
		return errors.New("not a struct")
	}
	for i := range rv.NumField() {
		name := rv.Type().Field(i).Name
		r, size := utf8.DecodeRuneInString(name)
		m[string(unicode.ToLower(r))+strings.Clone(name[size:])] = rv.Field(i).Interface()
	}
	return nil
}
