package scanner

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/ecs-audit/audit/inventory"
)

// block is a stand-in for the SDK's string arena: every string cut from it
// shares its memory.
type block struct{ buf string }

func (b *block) cut(s string) string {
	i := strings.Index(b.buf, s)
	if i < 0 {
		panic("not in the block: " + s)
	}
	return b.buf[i : i+len(s)]
}

// inBlock reports whether s points into the block.
func (b *block) inBlock(s string) bool {
	if s == "" {
		return false
	}
	start := uintptr(unsafe.Pointer(unsafe.StringData(b.buf)))
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	return p >= start && p < start+uintptr(len(b.buf))
}

func sameData(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }

func TestDetach(t *testing.T) {
	const longARN = "arn:aws:ecs:us-east-1:111122223333:task-definition/web:7"
	b := &block{buf: strings.Repeat("x", 100) + "ACTIVE|ecs.capability.execution-role-awslogs|com.amazonaws.ecs.capability.ecr-auth|" +
		longARN + "|awslogs-group|/ecs/web|arn:aws:iam::111122223333:role/exec|linux"}
	attrs := func() []inventory.Attribute {
		return []inventory.Attribute{{Name: b.cut("com.amazonaws.ecs.capability.ecr-auth")}, {Name: b.cut("ecs.capability.execution-role-awslogs")}}
	}
	deleted := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	region := func() *inventory.Region {
		return &inventory.Region{
			Name: "us-east-1", Status: b.cut("ACTIVE"),
			Clusters: []*inventory.Cluster{{ARN: "c", ContainerInstances: []*inventory.ContainerInstance{
				{ARN: "i1", Status: b.cut("ACTIVE"), Attributes: attrs()},
				{ARN: "i2", Status: b.cut("ACTIVE"), Attributes: attrs()},
				{ARN: "i3", Attributes: append(attrs(), inventory.Attribute{Name: "ecs.os-type", Value: b.cut("linux")})},
			}, Services: []*inventory.Service{{ARN: "s", TaskDefinition: b.cut(longARN)}}}},
			TaskDefinitions: []*inventory.TaskDefinition{{ARN: b.cut(longARN), ExecutionRoleARN: b.cut("arn:aws:iam::111122223333:role/exec"),
				RequiresAttributes: attrs(),
				ContainerDefinitions: []inventory.ContainerDefinition{{Name: "web", LogConfiguration: &inventory.LogConfiguration{LogDriver: "awslogs",
					Options: map[string]string{b.cut("awslogs-group"): b.cut("/ecs/web")}}}}}},
			Secrets: []*inventory.Secret{{ARN: "s", DeletedDate: &deleted}},
		}
	}
	in := newInterner()
	r := region()
	in.detach(r)

	// Equal to what it was, and nothing left in the block.
	if !reflect.DeepEqual(r, region()) {
		t.Fatalf("detach changed the values:\n%+v", r)
	}
	var leftovers []string
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.String:
			if b.inBlock(v.String()) {
				leftovers = append(leftovers, path)
			}
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), path)
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i), path+"."+v.Type().Field(i).Name)
				}
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i), path)
			}
		case reflect.Map:
			for it := v.MapRange(); it.Next(); {
				walk(it.Key(), path+"[key]")
				walk(it.Value(), path+"[value]")
			}
		}
	}
	walk(reflect.ValueOf(r), "region")
	if len(leftovers) > 0 {
		t.Errorf("strings still in the response's block: %v", leftovers)
	}

	// Equal attribute lists are one list; a different one is not.
	inst := r.Clusters[0].ContainerInstances
	if &inst[0].Attributes[0] != &inst[1].Attributes[0] || &inst[0].Attributes[0] != &r.TaskDefinitions[0].RequiresAttributes[0] {
		t.Error("equal attribute lists are not shared")
	}
	if &inst[2].Attributes[0] == &inst[0].Attributes[0] {
		t.Error("different attribute lists are shared")
	}
	// Short strings are shared across calls, long ones within a call.
	r2 := region()
	in.detach(r2)
	if !sameData(r.Status, r2.Clusters[0].ContainerInstances[1].Status) {
		t.Error("a short string is not shared across calls")
	}
	if !sameData(r.TaskDefinitions[0].ARN, r.Clusters[0].Services[0].TaskDefinition) {
		t.Error("a long string is not shared within a call")
	}
	if r.Secrets[0].DeletedDate == nil || !r.Secrets[0].DeletedDate.Equal(deleted) {
		t.Error("a time was changed")
	}
	// Nothing to do, and no panic, for nil values and a nil interner.
	in.detach((*inventory.Region)(nil))
	in.detach(nil)
	var none *interner
	none.detach(region())
	if got := none.str("x"); got != "x" {
		t.Errorf("nil interner str = %q", got)
	}
}
