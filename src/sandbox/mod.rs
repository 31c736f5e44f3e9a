//! Loopback fake of the Pix2DePix API.
