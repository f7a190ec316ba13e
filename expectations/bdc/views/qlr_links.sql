-- 权利人 × 登记：one row per row of ZTT_GY_QLR (same _BATCH, _ROW): does the holder point at a registration
-- of QLT_FW_FDCQ_YZ or QLF_QL_DYAQ in the same batch, and with which unit number.
WITH registrations AS (
    SELECT _BATCH, YWH, min(BDCDYH) AS bdcdyh
    FROM (SELECT _BATCH, YWH, BDCDYH FROM QLT_FW_FDCQ_YZ
          UNION ALL SELECT _BATCH, YWH, BDCDYH FROM QLF_QL_DYAQ)
    WHERE YWH IS NOT NULL GROUP BY _BATCH, YWH
)
SELECT h._BATCH, h._ROW, h.QXDM, h.YWH, h.BDCDYH,
    CASE WHEN h.YWH IS NULL THEN NULL WHEN r.YWH IS NULL THEN '0' ELSE '1' END AS REG_FOUND,
    r.bdcdyh AS REG_BDCDYH
FROM ZTT_GY_QLR h LEFT JOIN registrations r ON r._BATCH = h._BATCH AND r.YWH = h.YWH
