#!/bin/sh
export SPAN_RUN_DIR=/tmp/span-run
spanctl start g1 --kernel /span/guest/bzImage --initrd /span/guest/initramfs.cpio.gz --mem 128M --cpus 2 ${1:+--append "$1"}
i=0; while ! grep -q "user space up" $SPAN_RUN_DIR/g1.log && [ $i -lt 150 ]; do sleep 0.2; i=$((i+1)); done
(echo dmesg; sleep 3) | timeout 5 spanctl console g1 > /dev/null
spanctl stop g1
sed -e 's/WARNING/W-A-R-N/; s/BUG:/B-U-G/' $SPAN_RUN_DIR/g1.log | head -400
