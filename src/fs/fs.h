/* fs.h - placeholder, replaced by the FUSE adaptor. */
