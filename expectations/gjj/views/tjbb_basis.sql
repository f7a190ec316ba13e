-- 报表计算值背后的业务记录 / the business rows behind each computed line of the filed report (建金3-1): one row
-- per business row and line (_ROW = the row of SRC_TABLE in the batch; SRC_KEY its record key). A line's
-- computed figure is, per city (the row's CSDM): the number of distinct DISTINCT_KEY (101 实缴单位数, 102 实缴
-- 职工数), the number of rows (112, 113, 119, 120, 211, 212) or Σ AMOUNT / 10 000 in 万元, rounded half up to 2
-- decimals (108 实缴存额, 109 提取额 = Σ −FSE, 204 发放额, 207 贷款余额). "In the month" = the batch month (the
-- month of the as-of); amounts that are not plain decimals count nowhere (the format rules report them).
-- tjbb_links.sql computes the same figures from the same rows (keep the two in step).
WITH batch_asof AS (
    SELECT _BATCH, strftime(AS_OF, '%Y-%m') AS bm FROM dq_as_of
), grmx AS (
    SELECT m._BATCH, m._ROW, m.CSDM, m.YWLSH, m.GRZH, m.DWZH, m.GJHTQYWLX,
        CASE WHEN regexp_full_match(m.FSE, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(m.FSE AS DECIMAL(21,6)) END AS x_fse
    FROM GRMX m WHERE m.CSDM IS NOT NULL
), grxx AS (
    SELECT g._BATCH, g._ROW, g.CSDM, g.GRZH, g.GRZHZT,
        strftime(dq_date(CASE WHEN regexp_full_match(g.KHRQ, '[0-9]{8}') THEN substr(g.KHRQ, 1, 4) || '-' || substr(g.KHRQ, 5, 2) || '-' || substr(g.KHRQ, 7, 2) ELSE g.KHRQ END), '%Y-%m') AS khny,
        strftime(dq_date(CASE WHEN regexp_full_match(g.XHRQ, '[0-9]{8}') THEN substr(g.XHRQ, 1, 4) || '-' || substr(g.XHRQ, 5, 2) || '-' || substr(g.XHRQ, 7, 2) ELSE g.XHRQ END), '%Y-%m') AS xhny
    FROM GRXX g WHERE g.CSDM IS NOT NULL
), dkzh AS (
    SELECT k._BATCH, k._ROW, k.CSDM, k.DKZH,
        CASE WHEN regexp_full_match(k.DKFFE, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(k.DKFFE AS DECIMAL(21,6)) END AS x_dkffe,
        CASE WHEN regexp_full_match(k.DKYE, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(k.DKYE AS DECIMAL(21,6)) END AS x_dkye,
        CASE WHEN regexp_full_match(k.YQBJZE, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(k.YQBJZE AS DECIMAL(21,6)) END AS x_yqbjze,
        strftime(dq_date(CASE WHEN regexp_full_match(k.DKFFRQ, '[0-9]{8}') THEN substr(k.DKFFRQ, 1, 4) || '-' || substr(k.DKFFRQ, 5, 2) || '-' || substr(k.DKFFRQ, 7, 2) ELSE k.DKFFRQ END), '%Y-%m') AS ffny
    FROM DKZH k WHERE k.CSDM IS NOT NULL
), basis AS (
    SELECT _BATCH, _ROW, CSDM, '101' AS HC, 'GRMX' AS SRC_TABLE, YWLSH AS SRC_KEY, DWZH AS DISTINCT_KEY, NULL AS amount
        FROM grmx WHERE GJHTQYWLX IN ('01', '02') AND DWZH IS NOT NULL
    UNION ALL SELECT _BATCH, _ROW, CSDM, '102', 'GRMX', YWLSH, GRZH, NULL
        FROM grmx WHERE GJHTQYWLX IN ('01', '02') AND GRZH IS NOT NULL
    UNION ALL SELECT _BATCH, _ROW, CSDM, '108', 'GRMX', YWLSH, NULL, x_fse
        FROM grmx WHERE GJHTQYWLX IN ('01', '02') AND x_fse IS NOT NULL
    UNION ALL SELECT _BATCH, _ROW, CSDM, '109', 'GRMX', YWLSH, NULL, -x_fse
        FROM grmx WHERE GJHTQYWLX IN ('11', '12') AND x_fse IS NOT NULL
    UNION ALL SELECT g._BATCH, g._ROW, g.CSDM, '112', 'GRXX', g.GRZH, NULL, NULL
        FROM grxx g JOIN batch_asof a ON a._BATCH = g._BATCH WHERE g.khny = a.bm
    UNION ALL SELECT g._BATCH, g._ROW, g.CSDM, '113', 'GRXX', g.GRZH, NULL, NULL
        FROM grxx g JOIN batch_asof a ON a._BATCH = g._BATCH WHERE g.xhny = a.bm
    UNION ALL SELECT _BATCH, _ROW, CSDM, '119', 'GRXX', GRZH, NULL, NULL FROM grxx WHERE GRZHZT IN ('01', '02')
    UNION ALL SELECT _BATCH, _ROW, CSDM, '120', 'GRXX', GRZH, NULL, NULL FROM grxx WHERE GRZHZT = '02'
    UNION ALL SELECT k._BATCH, k._ROW, k.CSDM, '204', 'DKZH', k.DKZH, NULL, k.x_dkffe
        FROM dkzh k JOIN batch_asof a ON a._BATCH = k._BATCH WHERE k.ffny = a.bm AND k.x_dkffe IS NOT NULL
    UNION ALL SELECT _BATCH, _ROW, CSDM, '207', 'DKZH', DKZH, NULL, x_dkye FROM dkzh WHERE x_dkye IS NOT NULL AND x_dkye <> 0
    UNION ALL SELECT _BATCH, _ROW, CSDM, '211', 'DKZH', DKZH, NULL, NULL FROM dkzh WHERE x_dkye > 0
    UNION ALL SELECT _BATCH, _ROW, CSDM, '212', 'DKZH', DKZH, NULL, NULL FROM dkzh WHERE x_yqbjze > 0
)
SELECT _BATCH, CAST(_ROW AS VARCHAR) AS _ROW, CSDM, HC, SRC_TABLE, SRC_KEY, DISTINCT_KEY,
    CAST(amount AS VARCHAR) AS AMOUNT
FROM basis
