//! The picture: queue length and waiting time through the day, as an SVG file.

use std::path::Path;

use plotters::prelude::*;

use crate::sim::Chart;

/// The x axis is in hours of the day, so that its ticks fall on whole hours.
fn clock(hour: f64) -> String {
    let m = (hour * 60.0).round() as i64;
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// Draws the chart of one run to `path`.
pub fn draw(path: &Path, title: &str, chart: &Chart) -> Result<(), String> {
    draw_inner(path, title, chart).map_err(|e| format!("{}: {e}", path.display()))
}

fn draw_inner(path: &Path, title: &str, chart: &Chart) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (1100, 760)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 22))?;
    let (upper, lower) = root.split_vertically(360);

    let width = f64::from(chart.minutes) / 60.0;
    let first = f64::from(chart.first_minute) / 60.0;
    let mid = |i: usize| first + width * (i as f64 + 0.5);
    let x_range = first..first + width * chart.waiting.len() as f64;
    let x_labels = (width * chart.waiting.len() as f64).ceil() as usize + 1;

    let top = chart
        .waiting
        .iter()
        .chain(&chart.online)
        .copied()
        .fold(1.0, f64::max)
        * 1.1;
    let mut cc = ChartBuilder::on(&upper)
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .caption(
            format!(
                "Waiting conversations and agents online (average over each {} minutes)",
                chart.minutes
            ),
            ("sans-serif", 16),
        )
        .build_cartesian_2d(x_range.clone(), 0.0..top)?;
    cc.configure_mesh()
        .x_labels(x_labels)
        .x_label_formatter(&|m| clock(*m))
        .y_desc("conversations / agents")
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (series, color, label) in [
        (
            &chart.waiting,
            RGBColor(200, 60, 40),
            "waiting in the queue or pool",
        ),
        (&chart.online, RGBColor(60, 120, 200), "agents online"),
    ] {
        cc.draw_series(LineSeries::new(
            series.iter().enumerate().map(|(i, v)| (mid(i), *v)),
            color.stroke_width(2),
        ))?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    cc.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .draw()?;

    let worst = chart
        .p90_wait
        .iter()
        .chain(&chart.mean_wait)
        .flatten()
        .copied()
        .fold(10.0, f64::max);
    let (unit, scale) = if worst > 180.0 {
        ("minutes", 60.0)
    } else {
        ("seconds", 1.0)
    };
    let mut cc = ChartBuilder::on(&lower)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .caption(
            "Wait until answered, by time of arrival",
            ("sans-serif", 16),
        )
        .build_cartesian_2d(x_range, 0.0..worst / scale * 1.1)?;
    cc.configure_mesh()
        .x_labels(x_labels)
        .x_label_formatter(&|m| clock(*m))
        .x_desc("time of day (UTC)")
        .y_desc(unit)
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let p90 = RGBColor(230, 140, 30);
    let mean = RGBColor(120, 60, 160);
    // A line breaks where no one was answered.
    for (series, color, label) in [
        (&chart.p90_wait, p90, "90th percentile"),
        (&chart.mean_wait, mean, "average"),
    ] {
        let mut first = true;
        let mut run: Vec<(f64, f64)> = Vec::new();
        let mut runs = Vec::new();
        for (i, v) in series.iter().enumerate() {
            match v {
                Some(v) => run.push((mid(i), v / scale)),
                None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
                None => {}
            }
        }
        runs.push(run);
        for run in runs.into_iter().filter(|r| !r.is_empty()) {
            let drawn = cc.draw_series(LineSeries::new(run, color.stroke_width(2)))?;
            if first {
                drawn.label(label).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
                first = false;
            }
        }
    }
    cc.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    root.present()?;
    Ok(())
}
