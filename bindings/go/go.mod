module github.com/offrec/offrec/bindings/go

go 1.26
