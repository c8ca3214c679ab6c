//! A Mandelbrot renderer as a native-pool task: one Buffer of escape counts, one byte per pixel.
use native_pool::prelude::*;

#[derive(TaskArgs)]
struct MandelbrotArgs {
    /// image width in pixels
    #[arg(min = 1, max = 16384)] width: u32,
    /// image height in pixels
    #[arg(min = 1, max = 16384)] height: u32,
    /// iterations before a point counts as inside; default 255
    #[arg(min = 1, max = 255, default = 255)] max_iter: u32,
    /// the view's centre, real part; default -0.5
    #[arg(default = -0.5)] center_x: f64,
    /// the view's centre, imaginary part; default 0
    #[arg(default = 0.0)] center_y: f64,
    /// the width of the view in the complex plane; default 3
    #[arg(min = 1e-12, default = 3.0)] span: f64,
}

/// Renders the Mandelbrot set: a Buffer of width × height escape counts, row by row; posts { progress } per row
#[task(name = "mandelbrot", message = "{ progress: number }")]
fn mandelbrot(a: MandelbrotArgs, ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    let (w, h, scale) = (a.width as usize, a.height as usize, a.span / a.width as f64);
    let mut out = vec![0u8; w * h];
    let mut progress = ctx.progress(h as u64);
    for (y, row) in out.chunks_mut(w).enumerate() {
        let ci = a.center_y + (y as f64 - h as f64 / 2.0) * scale;
        for (x, pixel) in row.iter_mut().enumerate() {
            let cr = a.center_x + (x as f64 - w as f64 / 2.0) * scale;
            let (mut zr, mut zi, mut i) = (0.0f64, 0.0f64, 0);
            while i < a.max_iter && zr * zr + zi * zi <= 4.0 {
                (zr, zi) = (zr * zr - zi * zi + cr, 2.0 * zr * zi + ci);
                i += 1;
            }
            *pixel = i as u8;
        }
        progress.update(y as u64 + 1);
        ctx.check()?;
    }
    Ok(out)
}

native_pool::addon!(Mandelbrot);
