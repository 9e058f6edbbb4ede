package cuda

//go:generate sh gen.sh
