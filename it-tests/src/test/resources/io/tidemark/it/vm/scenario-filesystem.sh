# A virtual machine on a network disk: /dev/vda is an NBD export opened by QEMU.
# Parameters: FILES (count), FILE_MIB (size of each).
wait_for_device /dev/vda
phase booted
/usr/sbin/mke2fs -q -t ext4 /dev/vda
phase mkfs
mount -t ext4 /dev/vda /mnt
mkdir /mnt/data
i=1
while [ "$i" -le "$FILES" ]; do
  write_random_file "/mnt/data/file$i" "$FILE_MIB"
  i=$((i + 1))
done
sync
mark written "$FILES"
phase written
umount /mnt
drop_caches
mount -t ext4 /dev/vda /mnt
md5sum -c -s /tmp/manifest
mark verified "$(wc -l < /tmp/manifest)"
phase verified
umount /mnt
/usr/sbin/e2fsck -f -n /dev/vda > /tmp/fsck.log 2>&1 || { cat /tmp/fsck.log; exit 1; }
mark fsck clean
phase fsck
