/* The 指标 page's charts, drawn with the project's own copy of Apache ECharts
   (/static/vendor/echarts/echarts.min.js). The figures come from the page itself
   (<script type="application/json" id="indicator-data">); the tables beside the charts hold the
   same figures, so nothing is lost without JavaScript. */
(function () {
  "use strict";
  var source = document.getElementById("indicator-data");
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var RED = "#e5484d", GREEN = "#2ea043", GREY = "#c9cdd4", BLUE = "#245bdb";
  var charts = [];

  function fmt(v, digits) { return v === null || v === undefined ? "—" : Number(v).toFixed(digits); }

  // every indicator labelled; on a phone just its number (「指标5」 seven times does not fit)
  function categoryAxis(el, stage) {
    var narrow = el.clientWidth < 480;
    return { type: "category", name: narrow ? "指标" : "", nameGap: 6, nameTextStyle: { fontSize: 11 },
             data: stage.labels.map(function (c) { return narrow ? c : "指标" + c; }),
             axisLabel: { fontSize: 11, interval: 0 } };
  }

  function valueChart(el, stage) {
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 48, right: 40, top: 36, bottom: 28 },
      title: { text: stage.name + "：县域均值 ÷ 标准值", left: 0, textStyle: { fontSize: 13, fontWeight: "normal" } },
      tooltip: { trigger: "axis", formatter: function (items) {
        var i = items[0].dataIndex;
        return "指标" + stage.labels[i] + " " + stage.titles[i] + "<br>县域均值 " + fmt(stage.value[i], 2) +
               "，标准 ≥ " + fmt(stage.threshold[i], 2) + "<br>达到标准的 " + fmt(stage.value_ratio[i], 1) + "%";
      } },
      xAxis: categoryAxis(el, stage),
      yAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
      series: [{
        type: "bar", barMaxWidth: 28,
        data: stage.value_ratio.map(function (v) {
          return { value: v, itemStyle: { color: v === null ? GREY : (v >= 100 ? GREEN : RED) } };
        }),
        label: { show: true, position: "top", fontSize: 10, formatter: function (p) { return fmt(p.value, 0) + "%"; } },
        markLine: { symbol: "none", silent: true, lineStyle: { color: BLUE, type: "dashed" },
                    // beside the plot, right of the line: inside it the label would sit on a bar
                    label: { formatter: "标准", position: "end", fontSize: 11 }, data: [{ yAxis: 100 }] }
      }]
    });
    return chart;
  }

  function cvChart(el, stage) {
    var chart = echarts.init(el, null, { renderer: "svg" });
    var top = Math.max(stage.cv_limit || 0, Math.max.apply(null, stage.cv.map(function (v) { return v || 0; }))) * 1.25;
    chart.setOption({
      animation: false,
      grid: { left: 48, right: 40, top: 36, bottom: 28 },
      title: { text: stage.name + "：差异系数（限值 ≤ " + fmt(stage.cv_limit, 2) + "）", left: 0,
               textStyle: { fontSize: 13, fontWeight: "normal" } },
      tooltip: { trigger: "axis", formatter: function (items) {
        var i = items[0].dataIndex;
        return "指标" + stage.labels[i] + " " + stage.titles[i] + "<br>差异系数 " + fmt(stage.cv[i], 3) +
               "，限值 ≤ " + fmt(stage.cv_limit, 2);
      } },
      xAxis: categoryAxis(el, stage),
      yAxis: { type: "value", max: Math.ceil(top * 10) / 10 },  // a round top: no 0.65 crowding 0.6
      series: [{
        type: "bar", barMaxWidth: 28,
        data: stage.cv.map(function (v) {
          return { value: v, itemStyle: { color: v === null ? GREY : (v <= stage.cv_limit ? GREEN : RED) } };
        }),
        label: { show: true, position: "top", fontSize: 10, formatter: function (p) { return fmt(p.value, 3); } },
        markLine: { symbol: "none", silent: true, lineStyle: { color: RED, type: "dashed" },
                    label: { formatter: "限值", position: "end", fontSize: 11 }, data: [{ yAxis: stage.cv_limit }] }
      }]
    });
    return chart;
  }

  Object.keys(data).forEach(function (key) {
    var stage = data[key];
    var v = document.getElementById("chart-value-" + key), c = document.getElementById("chart-cv-" + key);
    if (v) { charts.push(valueChart(v, stage)); v.setAttribute("data-rendered", "1"); }
    if (c) { charts.push(cvChart(c, stage)); c.setAttribute("data-rendered", "1"); }
  });
  window.addEventListener("resize", function () { charts.forEach(function (ch) { ch.resize(); }); });
})();
