//! The QEMU command line. (Being written.)
