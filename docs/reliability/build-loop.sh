# Sourced by the scripts in this folder: a second copy of the tree (a tar of it without .git, bin and obj)
# rebuilt with `dotnet build --no-incremental` in a loop, so that both cores stay loaded while the caller
# measures. Also stopped, and its copy removed, when the caller exits or is interrupted.
#   build_loop_start REPO COPY   copy REPO to COPY and start rebuilding COPY in the background
#   build_loop_stop              stop after the build under way; sets BUILD_LOOP_BUILDS to the builds finished
build_loop_start() {
  BUILD_LOOP_COPY=$2
  rm -rf "$2" "$2.stop" "$2.log" && mkdir -p "$2"
  (cd "$1" && tar --exclude='./.git' --exclude='*/bin' --exclude='*/obj' -cf - .) | (cd "$2" && tar xf -)
  ( while [ ! -e "$2.stop" ]; do
      dotnet build "$2" --no-incremental -v q > /dev/null 2>&1
      echo "build done $(date +%T)" >> "$2.log"
    done ) &
  BUILD_LOOP_PID=$!
  trap build_loop_stop EXIT
  trap 'build_loop_stop; exit 130' INT TERM
}

build_loop_stop() {
  [ -n "$BUILD_LOOP_PID" ] || return 0
  touch "$BUILD_LOOP_COPY.stop"
  wait "$BUILD_LOOP_PID"
  BUILD_LOOP_PID=
  BUILD_LOOP_BUILDS=$(cat "$BUILD_LOOP_COPY.log" 2> /dev/null | wc -l)
  rm -rf "$BUILD_LOOP_COPY" "$BUILD_LOOP_COPY.stop" "$BUILD_LOOP_COPY.log"
}
